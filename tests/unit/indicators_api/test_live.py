"""Live indicators and features: closed bars advance per-series states seeded from the store; the values
equal the batch values of the stored series (property test over random series), are published as
`IndicatorsUpdatedEvent` and served as the latest values."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from src.domain.events import BarCompletedEvent, BarSyncedEvent
from src.domain.indicators.events import IndicatorsUpdatedEvent
from src.domain.indicators.warmup import TOLERANCE
from tests.unit.indicators_api.conftest import KEY, PATH, client_of, column, random_series
from tests.world import World

LATEST = PATH + "/latest"
FEATURES = "/api/v1/features/BINANCE/BTCUSDT"


def _world() -> tuple[World, list[IndicatorsUpdatedEvent]]:
    world = World(rate_limit_enabled=False)
    updates: list[IndicatorsUpdatedEvent] = []
    world.event_bus.subscribe(IndicatorsUpdatedEvent, updates.append)
    return world, updates


async def _close(world: World, bar) -> None:
    """What the quotes slice does when a live bar closes: store it, then publish BarCompletedEvent."""
    await world.bars.upsert(KEY, [bar])
    await world.event_bus.publish(BarCompletedEvent(key=KEY, bar=bar, occurred_at=world.clock.now()))


def _close_enough(got: dict, want: dict) -> bool:
    """Every value of `got` is null where `want`'s is, else within the warm-up tolerance of it."""
    for name, value in got.items():
        expected = want[name]
        if value is None or expected is None:
            if value is not expected:
                return False
        elif abs(value - expected) > TOLERANCE * max(1.0, abs(expected)):
            return False
    return True


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), stored=st.integers(0, 1_700), live=st.integers(1, 40))
async def test_live_values_after_each_closed_bar_equal_the_batch_values_of_the_stored_series(seed, stored, live):
    world, updates = _world()
    series = random_series(stored + live, seed=seed).bars()
    await world.bars.upsert(KEY, series[:stored])
    async with client_of(world) as api:
        for bar in series[stored:]:
            await _close(world, bar)
        batch = (await api.get(PATH, params={"interval": "1m", "limit": live})).json()["rows"]
        latest = (await api.get(LATEST, params={"interval": "1m"})).json()
        features = (await api.get(FEATURES, params={"interval": "1m", "limit": 1})).json()["rows"][-1]
        live_features = (await api.get(FEATURES + "/latest", params={"interval": "1m"})).json()
    assert [u.bar_time for u in updates] == [bar.time for bar in series[stored:]]
    for update, row in zip(updates, batch, strict=True):
        assert _close_enough(dict(update.values), row), (update.bar_time, update.values, row)
    assert latest["live"] is True and latest["timestamp"] == series[-1].time
    assert latest["values"] == dict(updates[-1].values)
    assert live_features["live"] is True and _close_enough(live_features["values"], features)


async def test_a_revised_or_repeated_bar_is_ignored_and_publishes_nothing():
    world, updates = _world()
    bars = random_series(300).bars()
    await world.bars.upsert(KEY, bars[:298])
    await _close(world, bars[298])
    await _close(world, bars[299])
    await _close(world, bars[298])  # a late revision of an earlier bar
    await _close(world, bars[299])  # a repeat
    assert [u.bar_time for u in updates] == [bars[298].time, bars[299].time]


async def test_a_sync_resets_the_live_series_so_its_next_bar_seeds_from_the_rewritten_store():
    world, updates = _world()
    bars = random_series(400).bars()
    await world.bars.upsert(KEY, bars[:398])
    await _close(world, bars[398])
    rewritten = [type(b)(b.interval, b.time, b.open * 2, b.high * 2, b.low * 2, b.close * 2, b.volume) for b in bars]
    await world.bars.upsert(KEY, rewritten[:399])
    await world.event_bus.publish(BarSyncedEvent(key=KEY, bars_fetched=399, bars_written=399, first_bar_time=None,
                                                 last_bar_time=None, occurred_at=world.clock.now()))
    await _close(world, rewritten[399])
    async with client_of(world) as api:
        batch = (await api.get(PATH, params={"interval": "1m", "limit": 1})).json()["rows"][-1]
    assert _close_enough(dict(updates[-1].values), batch)
    assert updates[-1].values["sma_20"] > 1.5 * updates[0].values["sma_20"]


async def test_latest_of_a_series_not_live_here_is_computed_from_the_store_at_its_newest_bar(world, api, stored):
    latest = (await api.get(LATEST, params={"interval": "1m"})).json()
    batch = (await api.get(PATH, params={"interval": "1m", "limit": 1})).json()["rows"][-1]
    assert latest["live"] is False and latest["timestamp"] == int(stored.time[-1])
    assert _close_enough(latest["values"], batch)
    assert latest["indicators"] == world.root.settings.live_indicators


async def test_latest_of_a_series_without_bars_is_a_404(api):
    response = await api.get(LATEST, params={"interval": "1h"})
    assert response.status_code == 404 and response.json()["field"] == "symbol"


async def test_a_failing_store_read_while_seeding_leaves_the_bar_writer_and_other_subscribers_unharmed():
    world, updates = _world()
    bar = random_series(1).bars()[0]

    async def broken(*args, **kwargs):
        raise ConnectionError("store down")

    world.bars.read = broken
    await world.event_bus.publish(BarCompletedEvent(key=KEY, bar=bar, occurred_at=world.clock.now()))
    assert updates == [] and world.events[-1].bar == bar  # the bus isolated the failure
    failed = world.event_bus.history[-1].failed  # the quality checks read the store too
    assert any("UpdateIndicatorsOnBarCompleted" in name for name in failed)


def test_column_helper_reads_nulls_as_nan():
    assert np.isnan(column([{"a": None}], "a")[0])
