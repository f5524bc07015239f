import asyncio

import orjson
import pytest

from src.common.errors import SymbolNotFound, UpstreamUnavailable
from src.domain.events import BarSyncedEvent
from src.domain.market_data import Interval, OHLCVBar, SeriesKey, Symbol
from src.domain.sync.status import SyncStatus
from src.features.market_data.messages import (
    BulkSyncCommand,
    GetBarsQuery,
    StartBackgroundSyncCommand,
    SyncSymbolCommand,
)
from tests.unit.market_data.conftest import BTC, KEY


def _history(world, count=100):
    start = int(world.clock.now()) - count * 60
    return world.provider.add_history(BTC, Interval.M1, start, count)


async def test_first_sync_stores_every_bar_and_reports_the_range(world):
    history = _history(world)
    result = await world.mediator.send(SyncSymbolCommand(KEY, n_bars=5000))
    assert result.status is SyncStatus.COMPLETED
    assert (result.bars_fetched, result.bars_written) == (100, 100)
    assert (result.first_bar_time, result.last_bar_time) == (history[0].time, history[-1].time)
    assert sorted(world.bars.series[KEY]) == [b.time for b in history]


async def test_sync_status_goes_pending_syncing_completed(world):
    _history(world)
    await world.mediator.send(SyncSymbolCommand(KEY))
    assert [s.status for s in world.sync_status.history] == [
        SyncStatus.PENDING, SyncStatus.SYNCING, SyncStatus.COMPLETED,
    ]
    assert world.sync_status.states[KEY].bars_written == 100


async def test_resync_writes_only_the_revised_forming_bar(world):
    history = _history(world)
    await world.mediator.send(SyncSymbolCommand(KEY))
    last = history[-1]
    history[-1] = OHLCVBar(Interval.M1, last.time, last.open, last.high + 5, last.low, last.close + 1, last.volume + 3)
    result = await world.mediator.send(SyncSymbolCommand(KEY))
    assert result.bars_written == 1
    assert world.bars.series[KEY][last.time] == history[-1]
    assert len(world.bars.series[KEY]) == 100


async def test_incremental_sync_fetches_only_what_is_missing_plus_overlap(world):
    _history(world, count=100)
    await world.mediator.send(SyncSymbolCommand(KEY, n_bars=5000))
    world.clock.advance(10 * 60)
    _history(world, count=110)
    await world.mediator.send(SyncSymbolCommand(KEY, n_bars=5000))
    assert world.provider.fetches[-1][2] <= 10 + 3
    assert len(world.bars.series[KEY]) == 110


async def test_unknown_symbol_records_error_and_writes_no_bars(world):
    key = SeriesKey(Symbol("BINANCE", "NOPE"), Interval.M1, "tradingview")
    with pytest.raises(SymbolNotFound):
        await world.mediator.send(SyncSymbolCommand(key))
    assert world.sync_status.states[key].status is SyncStatus.ERROR
    assert "unknown symbol" in world.sync_status.states[key].error
    assert key not in world.bars.series


async def test_upstream_down_is_recorded_and_raised(world):
    _history(world)
    world.provider.unavailable = True
    with pytest.raises(UpstreamUnavailable):
        await world.mediator.send(SyncSymbolCommand(KEY))
    assert world.sync_status.states[KEY].status is SyncStatus.ERROR
    world.provider.unavailable = False
    result = await world.mediator.send(SyncSymbolCommand(KEY))  # re-sync allowed after an error
    assert result.status is SyncStatus.COMPLETED


async def test_sync_publishes_bar_synced_event_after_writing(world):
    _history(world)
    seen = []
    world.event_bus.subscribe(BarSyncedEvent, lambda e: seen.append((e, len(world.bars.series[KEY]))))
    await world.mediator.send(SyncSymbolCommand(KEY))
    event, stored_when_published = seen[0]
    assert event.key == KEY and event.bars_written == 100 and stored_when_published == 100


async def test_sync_invalidates_the_series_cached_queries(world):
    _history(world, count=10)
    await world.mediator.send(SyncSymbolCommand(KEY))
    first = orjson.loads(await (await world.mediator.send(GetBarsQuery(KEY, limit=500))).read())
    assert first["count"] == 10
    world.clock.advance(60 * 5)
    _history(world, count=15)
    await world.mediator.send(SyncSymbolCommand(KEY))
    assert orjson.loads(await (await world.mediator.send(GetBarsQuery(KEY, limit=500))).read())["count"] == 15
    history = world.event_bus.history
    assert any(isinstance(h.event, BarSyncedEvent) and h.delivered >= 1 for h in history)


async def test_concurrent_syncs_of_one_series_run_once(world):
    _history(world)
    world.provider.gate = asyncio.Event()
    first = asyncio.create_task(world.mediator.send(SyncSymbolCommand(KEY)))
    second = asyncio.create_task(world.mediator.send(SyncSymbolCommand(KEY)))
    await asyncio.sleep(0.01)
    world.provider.gate.set()
    a, b = await asyncio.gather(first, second)
    assert a == b and len(world.provider.fetches) == 1


async def test_background_sync_returns_pending_then_completes_and_duplicates_join(world):
    _history(world)
    world.provider.gate = asyncio.Event()
    state = await world.mediator.send(StartBackgroundSyncCommand(KEY))
    again = await world.mediator.send(StartBackgroundSyncCommand(KEY))
    assert state.status in (SyncStatus.PENDING, SyncStatus.SYNCING) and again.is_running
    world.provider.gate.set()
    await world.exposed("market_data", "sync_runs").stop()
    assert world.sync_status.states[KEY].status is SyncStatus.COMPLETED
    assert len(world.provider.fetches) == 1


async def test_bulk_sync_isolates_failures(world):
    _history(world)
    bad = SeriesKey(Symbol("BINANCE", "NOPE"), Interval.M1, "tradingview")
    results = await world.mediator.send(BulkSyncCommand((SyncSymbolCommand(KEY), SyncSymbolCommand(bad))))
    assert results[0].result is not None and results[0].result.bars_written == 100
    assert isinstance(results[1].error, SymbolNotFound)


async def test_a_failed_sync_publishes_sync_failed_event_after_recording_the_error(world):
    from src.domain.events import SyncFailedEvent

    seen = []
    world.event_bus.subscribe(SyncFailedEvent, lambda e: seen.append((e, world.sync_status.states[e.key].status)))
    key = SeriesKey(Symbol("BINANCE", "NOPE"), Interval.M1, "tradingview")
    with pytest.raises(SymbolNotFound):
        await world.mediator.send(SyncSymbolCommand(key))
    event, recorded = seen[0]
    assert event.error_type == "SymbolNotFound" and recorded is SyncStatus.ERROR
