"""Coverage-driven syncs through the Mediator: the series ends up holding the newest `n_bars` bars the
source has, whatever was stored before (older history, holes, partial live bars), and a sync asks the
source only for what is missing plus the overlap."""

import asyncio
import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from src.common import cache_keys
from src.common.errors import Conflict, ShuttingDown
from src.domain.market_data import Interval, OHLCVBar
from src.domain.sync.status import SyncState, SyncStatus
from src.features.market_data import series_sync
from src.features.market_data.messages import StartBackgroundSyncCommand, SyncSymbolCommand
from tests.fakes import FakeOHLCVRepository
from tests.unit.market_data.conftest import BTC, KEY
from tests.world import World

M1 = Interval.M1


def source(world: World, count: int, *, holes: set[int] = frozenset()) -> list[OHLCVBar]:
    """`count` minutes of history ending with the bar before the forming one; minus the bars at `holes`
    (indexes from the oldest)."""
    start = int(world.clock.now()) - count * 60
    bars = world.provider.add_history(BTC, M1, start, count)
    kept = [bar for i, bar in enumerate(bars) if i not in holes]
    world.provider.bars[(BTC, M1)] = kept
    return kept


def stored_times(world: World) -> list[int]:
    return sorted(world.stored(BTC, M1))


async def sync(world: World, n_bars: int, **options) -> object:
    return await world.mediator.send(SyncSymbolCommand(KEY, n_bars, **options))


async def test_a_stored_series_is_extended_backwards_to_n_bars(world):
    bars = source(world, 3_000)
    await world.bars.upsert(KEY, bars[-100:])
    await sync(world, 3_000)
    assert stored_times(world) == [b.time for b in bars]


async def test_a_live_only_series_then_a_sync_gets_its_history(world):
    bars = source(world, 500)
    live = dataclasses.replace(bars[-1], close=bars[-1].close - 0.25, partial=True)
    await world.bars.upsert(KEY, [live])
    result = await sync(world, 500)
    assert stored_times(world) == [b.time for b in bars]
    assert world.stored(BTC, M1)[live.time] == bars[-1]  # the complete bar replaced the partial one
    assert result.bars_fetched == 500


async def test_holes_near_the_newest_bar_are_refetched_with_it_by_count(world):
    bars = source(world, 2_000)
    await world.bars.upsert(KEY, bars[:700] + bars[900:])
    await sync(world, 2_000)
    assert stored_times(world) == [b.time for b in bars]
    assert [n for _, _, n in world.provider.fetches] == [1_301] and world.provider.ranges == []  # to the forming slot


async def test_holes_far_from_the_newest_bar_are_repaired_by_range(world):
    bars = source(world, 12_000)
    await world.bars.upsert(KEY, bars[:1_000] + bars[1_200:])
    await sync(world, 12_000)
    assert stored_times(world) == [b.time for b in bars]
    holes = [(start, end) for _, _, start, end in world.provider.ranges]
    assert holes == [(bars[1_000].time, bars[1_199].time)]
    assert [n for _, _, n in world.provider.fetches] == [2]


async def test_an_up_to_date_series_fetches_only_the_overlap(world):
    source(world, 1_000)
    await sync(world, 1_000)
    world.provider.fetches.clear()
    await sync(world, 1_000)
    assert [n for _, _, n in world.provider.fetches] == [2] and world.provider.ranges == []


async def test_a_series_behind_fetches_what_is_missing_plus_the_overlap(world):
    source(world, 100)
    await sync(world, 5_000)
    world.clock.advance(10 * 60)
    source(world, 110)
    world.provider.fetches.clear()
    await sync(world, 5_000)
    assert [n for _, _, n in world.provider.fetches] == [10 + 2]  # the source said where its history starts
    assert len(stored_times(world)) == 110


async def test_refresh_refetches_the_whole_window_and_overwrites_bad_bars(world):
    bars = source(world, 300)
    await sync(world, 300)
    bad = dataclasses.replace(bars[100], close=bars[100].close + 0.25)
    await world.bars.upsert(KEY, [bad])
    await sync(world, 300)
    assert world.stored(BTC, M1)[bad.time] == bad  # stored and complete: a normal sync leaves it
    result = await sync(world, 300, refresh=True)
    assert world.stored(BTC, M1)[bad.time] == bars[100] and result.bars_fetched == 300


async def test_source_gaps_are_learned_and_not_asked_for_again(world):
    bars = source(world, 1_000, holes={10, 11, 500, 700})
    await sync(world, 996)
    assert stored_times(world) == [b.time for b in bars]
    gaps = world.sync_status.states[KEY].source_gaps
    assert len(gaps) == 3
    world.provider.fetches.clear()
    await sync(world, 996)
    assert [n for _, _, n in world.provider.fetches] == [2] and world.provider.ranges == []


async def test_a_source_with_holes_grows_the_window_back_until_it_holds_n_bars(world):
    bars = source(world, 1_000, holes=set(range(900, 950)))
    await sync(world, 900)
    assert stored_times(world)[-900:] == [b.time for b in bars[-900:]]
    assert len(stored_times(world)) >= 900


async def test_every_write_invalidates_the_series_cached_queries_even_if_the_sync_then_fails(world, monkeypatch):
    monkeypatch.setattr(series_sync, "WRITE_BATCH", 100)
    source(world, 300)
    world.cache.values[cache_keys.ohlcv_query(KEY, "warm")] = b"stale"

    class FailingSecondWrite(FakeOHLCVRepository):
        calls = 0

        async def upsert(self, key, bars):
            FailingSecondWrite.calls += 1
            if FailingSecondWrite.calls == 2:
                raise ConnectionError("store gone")
            return await super().upsert(key, bars)

    world.bars.__class__ = FailingSecondWrite
    with pytest.raises(ConnectionError):
        await sync(world, 300)
    assert len(stored_times(world)) == 100  # the oldest batch is written first
    assert cache_keys.ohlcv_query(KEY, "warm") not in world.cache.values


async def test_a_live_run_of_another_process_is_never_overwritten(world):
    source(world, 100)
    theirs = SyncState.requested(KEY, world.clock.now(), "other-process", 30.0).start(world.clock.now(), 30.0)
    await world.sync_status.save(theirs)
    with pytest.raises(Conflict):
        await sync(world, 100)
    assert world.sync_status.states[KEY] == theirs
    background = await world.mediator.send(StartBackgroundSyncCommand(KEY, 100))
    assert background == theirs  # reported, not disturbed


async def test_a_run_whose_owner_is_gone_is_interrupted_and_taken_over(world):
    source(world, 100)
    theirs = SyncState.requested(KEY, world.clock.now(), "dead-process", 30.0).start(world.clock.now(), 30.0)
    await world.sync_status.save(theirs)
    world.owner.gone.add("dead-process")
    world.cache.values[cache_keys.ohlcv_query(KEY, "warm")] = b"stale"
    result = await sync(world, 100)
    assert result.status is SyncStatus.COMPLETED and world.sync_status.states[KEY].owner == world.owner.id
    assert cache_keys.ohlcv_query(KEY, "warm") not in world.cache.values


async def test_an_expired_lease_lets_another_process_take_the_run(world):
    source(world, 100)
    theirs = SyncState.requested(KEY, world.clock.now(), "slow-process", 30.0).start(world.clock.now(), 30.0)
    await world.sync_status.save(theirs)
    world.clock.advance(31)
    assert (await sync(world, 100)).status is SyncStatus.COMPLETED


async def test_start_up_recovery_interrupts_abandoned_runs_and_drops_cached_queries(world):
    other = dataclasses.replace(KEY, interval=Interval.H1)
    dead = SyncState.requested(KEY, world.clock.now(), "dead", 30.0).start(world.clock.now(), 30.0)
    alive = SyncState.requested(other, world.clock.now(), "alive", 30.0).start(world.clock.now(), 30.0)
    await world.sync_status.save(dead)
    await world.sync_status.save(alive)
    world.owner.gone.add("dead")
    world.cache.values[cache_keys.ohlcv_query(other, "warm")] = b"stale"
    await world.root.lifecycle.start()
    try:
        assert world.sync_status.states[KEY].status is SyncStatus.INTERRUPTED
        assert world.sync_status.states[other] == alive
        assert not [k for k in world.cache.values if k.startswith("ohlcv:")]
    finally:
        await world.root.lifecycle.stop()


async def test_a_running_sync_renews_its_lease():
    world = World(sync_lease_s=0.03)
    source(world, 100)
    world.provider.gate = asyncio.Event()
    task = asyncio.create_task(sync(world, 100))
    await asyncio.sleep(0.1)
    renewals = [s for s in world.sync_status.history if s.status is SyncStatus.SYNCING]
    world.provider.gate.set()
    await task
    assert len(renewals) >= 3 and renewals[-1].revision > renewals[0].revision


async def test_a_run_taken_over_by_another_process_stops():
    world = World(sync_lease_s=0.03)
    source(world, 100)
    world.provider.gate = asyncio.Event()
    task = asyncio.create_task(sync(world, 100))
    await asyncio.sleep(0.02)
    state = world.sync_status.states[KEY]
    await world.sync_status.save(dataclasses.replace(state, owner="usurper", revision=state.revision + 5))
    with pytest.raises(Conflict):
        async with asyncio.timeout(2):
            await task
    assert world.sync_status.states[KEY].owner == "usurper"


async def test_shutdown_cuts_a_running_sync_off_after_the_grace_and_records_it():
    world = World(sync_drain_timeout_s=0.05)
    source(world, 100)
    world.provider.gate = asyncio.Event()  # the upstream never answers
    await world.root.lifecycle.start()
    task = asyncio.create_task(sync(world, 100))
    await asyncio.sleep(0.01)
    world.root.lifecycle.begin_shutdown()
    with pytest.raises(ShuttingDown):
        async with asyncio.timeout(2):
            await task
    state = world.sync_status.states[KEY]
    assert state.status is SyncStatus.INTERRUPTED and "shutdown" in state.error
    with pytest.raises(ShuttingDown):
        await sync(world, 100)
    await world.root.lifecycle.stop()


# --- the property, through the Mediator ---------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    count=st.integers(min_value=1, max_value=1_500),
    n_bars=st.integers(min_value=1, max_value=1_500),
    stored=st.lists(st.tuples(st.integers(0, 1_500), st.integers(1, 300), st.booleans()), max_size=5),
    holes=st.sets(st.integers(0, 1_500), max_size=20),
)
def test_any_stored_subset_and_any_request_end_in_a_complete_window(count, n_bars, stored, holes):
    async def scenario() -> None:
        world = World()
        bars = source(world, count, holes={h for h in holes if h < count - 1})
        kept_complete: set[int] = set()
        for start, length, partial in stored:
            mine = [dataclasses.replace(b, close=b.close - 0.25, partial=partial) for b in bars[start:start + length]]
            await world.bars.upsert(KEY, mine)
            kept_complete = (kept_complete - {b.time for b in mine}) | {b.time for b in mine if not partial}
        await sync(world, n_bars)
        after = world.stored(BTC, M1)
        newest = bars[-n_bars:]
        assert all(b.time in after and not after[b.time].partial for b in newest)  # complete window
        assert all(after[b.time] == b for b in newest if b.time not in kept_complete)  # from the source

    asyncio.run(scenario())
