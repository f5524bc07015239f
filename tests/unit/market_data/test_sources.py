"""Sources through the Mediator: each source's breaker (a failing source is refused at once and shows in the
health check, another source is unaffected), bulk syncs bounded per source, and jobs syncing each tracked
series from its own source."""

import asyncio

import pytest

from src.common.errors import SourceUnavailable, UpstreamUnavailable
from src.domain.market_data import Instrument, Interval, SeriesKey, Symbol
from src.features.market_data.messages import (
    BulkSyncCommand,
    SearchSymbolsQuery,
    SyncSymbolCommand,
    TrackSymbolCommand,
)
from src.features.system.messages import GetHealthQuery
from tests.fakes import FakeProvider, fake_provider
from tests.world import World

BTC = Symbol("BINANCE", "BTCUSDT")
ETH = Symbol("BINANCE", "ETHUSDT")


async def failing_search(query, *, exchange=None):
    raise UpstreamUnavailable("search is down")


def two_sources(**settings) -> tuple[World, FakeProvider]:
    binance = FakeProvider()
    world = World(more_providers=[fake_provider("binance", binance)], **settings)
    for provider, price in ((world.provider, 100.0), (binance, 200.0)):
        for symbol in (BTC, ETH):
            provider.add_history(symbol, Interval.M1, 1_699_990_000, 50, price)
    return world, binance


async def test_a_failing_source_opens_its_circuit_and_is_refused_at_once_while_others_work():
    world, binance = two_sources(source_breaker_failures=3, source_breaker_open_s=30)
    binance.unavailable = True
    key = SeriesKey(BTC, Interval.M1, "binance")
    for _ in range(3):
        with pytest.raises(UpstreamUnavailable):
            await world.mediator.send(SyncSymbolCommand(key, 10))
    calls = len(binance.fetches)
    with pytest.raises(SourceUnavailable) as refused:
        await world.mediator.send(SyncSymbolCommand(key, 10))
    assert refused.value.source == "binance" and 29 <= refused.value.retry_after_s <= 30
    assert len(binance.fetches) == calls
    ok = await world.mediator.send(SyncSymbolCommand(SeriesKey(BTC, Interval.M1, "tradingview"), 10))
    assert ok.bars_written == 10
    report = await world.mediator.send(GetHealthQuery())
    assert report.down == ["source-binance"]


async def test_bulk_syncs_are_bounded_per_source_across_requests():
    world, binance = two_sources(sync_bulk_concurrency=1)
    for provider in (world.provider, binance):
        provider.gate = asyncio.Event()
    items = [SyncSymbolCommand(SeriesKey(s, i, src), 10) for src in ("tradingview", "binance") for s in (BTC, ETH)
             for i in (Interval.M1,)]
    first = asyncio.create_task(world.mediator.send(BulkSyncCommand(tuple(items[:2] + items[2:3]))))
    second = asyncio.create_task(world.mediator.send(BulkSyncCommand(tuple(items[3:]))))
    await asyncio.sleep(0.05)
    assert (len(world.provider.fetches), len(binance.fetches)) == (1, 1)  # one per source, whoever asked
    for provider in (world.provider, binance):
        provider.gate.set()
    results = await asyncio.gather(first, second)
    assert all(r.error is None for batch in results for r in batch)
    assert (len(world.provider.fetches), len(binance.fetches)) == (2, 2)


async def test_the_scheduled_sync_takes_each_tracked_series_from_its_own_source():
    world, binance = two_sources()
    await world.mediator.send(TrackSymbolCommand(Instrument("binance", ETH), (Interval.M1,)))
    await world.mediator.send(TrackSymbolCommand(Instrument("tradingview", BTC), (Interval.M1,)))
    summary = await world.root.scheduler.run("sync_all_symbols")
    assert summary.outcome == "ok"
    assert [(s, i) for s, i, _ in binance.fetches] == [(ETH, Interval.M1)]
    assert [(s, i) for s, i, _ in world.provider.fetches] == [(BTC, Interval.M1)]
    stored = world.stored(ETH, Interval.M1, "binance")
    assert stored[min(stored)].open == 200.0  # binance's prices, not tradingview's (100)


async def test_searching_every_source_leaves_out_one_that_fails_but_not_when_all_fail():
    world, binance = two_sources()
    binance.search_symbols = failing_search
    found = await world.mediator.send(SearchSymbolsQuery("BTC"))
    assert [(m.source, m.symbol) for m in found] == [("tradingview", BTC)]
    with pytest.raises(UpstreamUnavailable):
        await world.mediator.send(SearchSymbolsQuery("BTC", source="binance"))
    world.provider.search_symbols = failing_search
    with pytest.raises(UpstreamUnavailable):
        await world.mediator.send(SearchSymbolsQuery("BTC"))
