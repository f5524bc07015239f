"""`exclude_flagged=true` on bars, indicators and features (values against pandas over the series without
the flagged bars); the reconciliation of live-built bars with the source's under both policies; a session
symbol's missing bars counted on its calendar (no false gaps at night)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import orjson
import pandas as pd
import pytest

from src.common.errors import NotFound
from src.common.ports import SymbolInfo
from src.domain.events import BarCompletedEvent
from src.domain.features import feature_set
from src.domain.indicators import parse_specs
from src.domain.market_data import Interval, OHLCVBar, SeriesKey, Symbol
from src.domain.quality import FlagState
from src.features.indicators.messages import GetFeaturesQuery, GetIndicatorsQuery
from src.features.indicators.reading import Window
from src.features.market_data.messages import GetBarsQuery
from src.features.quality.messages import JudgeFlagCommand, ReconcileLiveBarsCommand
from tests.unit.domain.quality_series import MINUTE, T0, bars_of, columns_from_closes, smooth_closes
from tests.unit.quality.conftest import BAD_TICK, BARS, BTC, KEY, M1, QualityWorld, clean, with_bad_tick

BAD_TIME = T0 + BAD_TICK * MINUTE


async def bar_times(world, **options) -> list[int]:
    page = await world.mediator.send(GetBarsQuery(KEY, limit=1_000, **options))
    return [row["timestamp"] for row in orjson.loads(await page.read())["bars"]]


async def test_exclude_flagged_leaves_the_flagged_bar_out_of_the_bars_until_the_flag_is_cleared(world):
    world.source(with_bad_tick(clean()))
    await world.sync()
    every = await bar_times(world)
    assert BAD_TIME in every and len(every) == BARS
    assert await bar_times(world, exclude_flagged=True) == [t for t in every if t != BAD_TIME]
    await world.mediator.send(JudgeFlagCommand(KEY, "price_spikes", BAD_TIME, confirm=True))
    assert BAD_TIME not in await bar_times(world, exclude_flagged=True)  # confirmed: still left out
    await world.mediator.send(JudgeFlagCommand(KEY, "price_spikes", BAD_TIME, confirm=False))
    assert await bar_times(world, exclude_flagged=True) == every  # cleared (cached pages dropped too)


async def test_resampled_bars_are_built_without_the_finer_series_flagged_bars(world):
    columns = with_bad_tick(clean())
    world.source(columns)
    await world.sync()
    key5 = SeriesKey(BTC, Interval.M5, KEY.source)
    page = await world.mediator.send(GetBarsQuery(key5, limit=100, exclude_flagged=True))
    rows = {row["timestamp"]: row for row in orjson.loads(await page.read())["bars"]}
    five = rows[BAD_TIME - BAD_TIME % 300]
    kept = [i for i in range(BARS) if T0 + i * MINUTE >= BAD_TIME - BAD_TIME % 300][:5]
    kept = [i for i in kept if i != BAD_TICK]
    assert five["high"] == pytest.approx(max(float(columns.high[i]) for i in kept))


async def test_indicators_and_features_with_exclude_flagged_equal_pandas_over_the_series_without_the_bar(world):
    columns = with_bad_tick(clean())
    world.source(columns)
    await world.sync()
    frame = pd.DataFrame({"time": columns.time, "close": columns.close})
    reference = frame[frame.time != BAD_TIME].assign(sma=lambda f: f.close.rolling(5).mean()).set_index("time").sma
    body = await world.mediator.send(GetIndicatorsQuery(KEY, parse_specs(["sma:5"]),
                                                        Window(start=BAD_TIME - 10 * MINUTE, exclude_flagged=True)))
    rows = orjson.loads(body)["rows"]
    assert BAD_TIME not in [row["timestamp"] for row in rows]
    got = pd.Series({row["timestamp"]: row["sma_5"] for row in rows})
    np.testing.assert_allclose(got.to_numpy(), reference.loc[got.index].to_numpy(), rtol=1e-12)
    with_flagged = orjson.loads(await world.mediator.send(GetIndicatorsQuery(
        KEY, parse_specs(["sma:5"]), Window(start=BAD_TIME - 10 * MINUTE))))["rows"]
    assert BAD_TIME in [row["timestamp"] for row in with_flagged]  # without the option: every bar
    features = orjson.loads(await world.mediator.send(GetFeaturesQuery(
        KEY, feature_set("v1"), Window(start=BAD_TIME - 10 * MINUTE, exclude_flagged=True))))["rows"]
    assert BAD_TIME not in [row["timestamp"] for row in features] and len(features) == len(rows)


DIFFERING = (2, 4)  # live bars whose source bars differ (older than what a sync's overlap rewrites)


async def _close_live(world: QualityWorld, bars: list[OHLCVBar]) -> None:
    """Bars built live: stored as the bar writer stores them, then announced closed."""
    await world.bars.upsert(KEY, bars)
    for bar in bars:
        await world.event_bus.publish(BarCompletedEvent(key=KEY, bar=bar, occurred_at=world.clock.now()))


def _disagreeing(world: QualityWorld) -> tuple[list[OHLCVBar], list[OHLCVBar]]:
    """A synced history, then 10 live bars; the source's bars of those periods differ in two closes."""
    history = bars_of(columns_from_closes(smooth_closes(BARS + 10)))
    world.provider.bars[(BTC, M1)] = history[:BARS]
    live = history[BARS:]
    source = list(live)
    for at, factor in zip(DIFFERING, (1.001, 0.998), strict=True):
        bar = live[at]
        close = bar.close * factor
        source[at] = OHLCVBar(M1, bar.time, bar.open, max(bar.high, close), min(bar.low, close), close, bar.volume)
    return live, source


@pytest.mark.parametrize("policy", ["keep_live", "replace_with_source"])
async def test_live_bars_that_disagree_with_the_source_are_reported_and_the_policy_decides_what_is_kept(policy):
    world = QualityWorld(quality_reconcile_policy=policy)
    live, source = _disagreeing(world)
    await world.sync()
    world.clock.advance(11 * MINUTE)
    await _close_live(world, live)
    world.provider.bars[(BTC, M1)] = [*world.provider.bars[(BTC, M1)], *source]  # the source's history now covers them
    page = await world.mediator.send(ReconcileLiveBarsCommand(KEY))
    record = page.quality.reconciliation
    assert (record.compared_bars, record.differing_bars, record.policy) == (10, 2, policy)
    close = next(f for f in record.fields if f.field == "close")
    expected = max(abs(s.close - b.close) / max(abs(s.close), abs(b.close)) for s, b in zip(source, live, strict=True))
    assert close.differing_bars == 2 and close.max_relative_error == pytest.approx(expected)
    assert next(f for f in record.fields if f.field == "volume").differing_bars == 0
    stored = world.stored(BTC, M1)
    differing = [live[at].time for at in DIFFERING]
    if policy == "keep_live":
        assert [stored[t].close for t in differing] == [live[at].close for at in DIFFERING]
        assert record.bars_replaced == 0
        assert "live_vs_source" in page.quality.failed
        assert {f.anomaly.bar_time for f in page.flags} == set(differing)
    else:
        assert [stored[t].close for t in differing] == [source[at].close for at in DIFFERING]
        assert record.bars_replaced == 2 and "live_vs_source" not in page.quality.failed
    assert page.quality.live_since is None  # nothing owed any more
    with pytest.raises(NotFound):
        await world.mediator.send(ReconcileLiveBarsCommand(KEY))


async def test_a_sync_after_live_bars_reconciles_them_and_later_runs_keep_the_result(world):
    live, source = _disagreeing(world)
    await world.sync()
    world.clock.advance(11 * MINUTE)
    await _close_live(world, live)
    world.provider.bars[(BTC, M1)] = [*world.provider.bars[(BTC, M1)], *source]
    record = await world.sync(BARS + 10)
    assert record.reconciliation is not None and record.reconciliation.differing_bars == 2
    again = await world.sync(BARS + 10)
    assert "live_vs_source" in again.failed and again.score == record.score  # kept until the next reconciliation
    assert all(f.state is FlagState.OPEN for f in again.flags if f.anomaly.check == "live_vs_source")


NEW_YORK = ZoneInfo("America/New_York")
AAPL = Symbol("NASDAQ", "AAPL")
AAPL_H1 = SeriesKey(AAPL, Interval.H1, "tradingview")


def nasdaq_opens(first: date, last: date) -> list[int]:
    """NASDAQ's 1h bar opens by hand: weekdays 09:30-16:00 New York (the last bar of a day half an hour)."""
    found, day = [], first
    while day <= last:
        if day.weekday() < 5:
            t = datetime.combine(day, datetime.strptime("0930", "%H%M").time(), NEW_YORK)
            close = datetime.combine(day, datetime.strptime("1600", "%H%M").time(), NEW_YORK)
            while t < close:
                found.append(int(t.timestamp()))
                t += timedelta(hours=1)
        day += timedelta(days=1)
    return found


async def test_a_session_symbol_has_no_false_gaps_at_night_and_a_missing_session_bar_is_flagged():
    now = datetime(2024, 3, 15, 17, 0, tzinfo=NEW_YORK).timestamp()  # Friday after the close (DST since Mar 10)
    world = QualityWorld(now)
    world.provider.infos[AAPL] = SymbolInfo(AAPL, "Apple", "stock", "USD", "America/New_York", "0930-1600")
    times = nasdaq_opens(date(2024, 3, 4), date(2024, 3, 15))
    world.provider.add_bars_at(AAPL, Interval.H1, times)
    record = await world.sync(len(times), key=AAPL_H1)
    missing = next(r for r in record.results if r.name == "missing_session_bars")
    assert (missing.passed, missing.value) == (True, 0.0)  # nights, the weekend and the DST change: no gap
    assert next(r for r in record.results if r.name == "stale_series").passed  # closed now: never stale
    hole = times[20]
    world.provider.add_bars_at(AAPL, Interval.H1, [t for t in times if t != hole])
    await world.bars.remove(AAPL_H1, [hole])
    record = await world.sync(len(times), key=AAPL_H1, refresh=True)
    [flag] = [f for f in record.flags if f.anomaly.check == "missing_session_bars"]
    assert flag.anomaly.span == (hole, hole) and flag.excluded_span is None  # about the series, not a bar


async def test_live_session_bars_across_a_night_are_no_gap_and_a_skipped_session_bar_is():
    now = datetime(2024, 3, 18, 12, 0, tzinfo=NEW_YORK).timestamp()  # Monday noon
    world = QualityWorld(now)
    world.provider.infos[AAPL] = SymbolInfo(AAPL, "Apple", "stock", "USD", "America/New_York", "0930-1600")
    times = nasdaq_opens(date(2024, 3, 11), date(2024, 3, 15))
    world.provider.add_bars_at(AAPL, Interval.H1, times)
    await world.sync(len(times), key=AAPL_H1)
    monday = nasdaq_opens(date(2024, 3, 18), date(2024, 3, 18))
    for t in (monday[0], monday[2]):  # Friday 15:30 -> Monday 09:30: the weekend; then 10:30 is skipped
        bar = OHLCVBar(Interval.H1, t, 100.0, 101.0, 99.0, 100.5, 10.0)
        await world.event_bus.publish(BarCompletedEvent(key=AAPL_H1, bar=bar, occurred_at=now))
    [missing] = [f for f in world.quality.records[AAPL_H1].flags if f.anomaly.check == "missing_session_bars"]
    assert missing.anomaly.span == (monday[1], monday[1])
