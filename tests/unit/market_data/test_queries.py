import orjson

from src.domain.market_data import Interval
from src.features.market_data.messages import (
    BarsFormat,
    GetBarsQuery,
    GetSyncStatusQuery,
    ListSymbolsQuery,
    SearchSymbolsQuery,
    SyncSymbolCommand,
    TrackSymbolCommand,
    UntrackSymbolCommand,
)
from tests.unit.market_data.conftest import BTC, KEY


async def _synced(world, count=20):
    bars = world.provider.add_history(BTC, Interval.M1, int(world.clock.now()) - count * 60, count)
    await world.mediator.send(SyncSymbolCommand(KEY))
    return bars


async def test_get_bars_by_limit_and_order(world):
    bars = await _synced(world)
    body = orjson.loads(await world.mediator.send(GetBarsQuery(KEY, limit=5, descending=True)))
    assert [b["timestamp"] for b in body["bars"]] == [b.time for b in reversed(bars[-5:])]
    assert body["bars"][0]["time"].endswith("Z")
    assert (body["exchange"], body["symbol"], body["interval"], body["count"]) == ("BINANCE", "BTCUSDT", "1m", 5)


async def test_get_bars_by_range(world):
    bars = await _synced(world)
    body = orjson.loads(await world.mediator.send(GetBarsQuery(KEY, start=bars[3].time, end=bars[6].time)))
    assert [b["timestamp"] for b in body["bars"]] == [b.time for b in bars[3:7]]


async def test_get_bars_as_csv(world):
    bars = await _synced(world, count=3)
    text = (await world.mediator.send(GetBarsQuery(KEY, format=BarsFormat.CSV))).decode()
    lines = text.strip().splitlines()
    assert lines[0] == "time,open,high,low,close,volume" and len(lines) == 4
    assert lines[1].split(",")[4] == repr(bars[0].close)


async def test_second_read_is_served_from_cache(world):
    await _synced(world)
    await world.mediator.send(GetBarsQuery(KEY, limit=10))
    await world.mediator.send(GetBarsQuery(KEY, limit=10))
    assert world.cache.computed == 1


async def test_track_untrack_and_list_symbols(world):
    await _synced(world)
    tracked = await world.mediator.send(TrackSymbolCommand(BTC, (Interval.M1, Interval.D1)))
    assert tracked.description and tracked.active and tracked.intervals == (Interval.M1, Interval.D1)
    world.clock.advance(5)
    await world.mediator.send(UntrackSymbolCommand(BTC, (Interval.M1,)))
    [still] = await world.mediator.send(ListSymbolsQuery())
    assert still.intervals == (Interval.D1,) and still.created_at < still.updated_at
    await world.mediator.send(UntrackSymbolCommand(BTC))
    assert await world.mediator.send(ListSymbolsQuery()) == []
    assert len(await world.mediator.send(ListSymbolsQuery(active_only=False))) == 1


async def test_search_and_sync_status_with_coverage(world):
    await _synced(world)
    [match] = await world.mediator.send(SearchSymbolsQuery("btc"))
    assert match.symbol == BTC
    [view] = await world.mediator.send(GetSyncStatusQuery(exchange="BINANCE"))
    assert view.coverage.bar_count == 20 and view.state.bars_written == 20
    assert await world.mediator.send(GetSyncStatusQuery(exchange="NASDAQ")) == []
