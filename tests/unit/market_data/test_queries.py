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
from tests.world import instrument


async def _body(world, query) -> bytes:
    return await (await world.mediator.send(query)).read()


async def _synced(world, count=20):
    bars = world.provider.add_history(BTC, Interval.M1, int(world.clock.now()) - count * 60, count)
    await world.mediator.send(SyncSymbolCommand(KEY))
    return bars


async def test_get_bars_by_limit_and_order(world):
    bars = await _synced(world)
    body = orjson.loads(await _body(world, GetBarsQuery(KEY, limit=5, descending=True)))
    assert [b["timestamp"] for b in body["bars"]] == [b.time for b in reversed(bars[-5:])]
    assert body["bars"][0]["time"].endswith("Z")
    assert (body["source"], body["exchange"], body["symbol"], body["interval"], body["count"]) == (
        "tradingview", "BINANCE", "BTCUSDT", "1m", 5)


async def test_get_bars_by_range(world):
    bars = await _synced(world)
    body = orjson.loads(await _body(world, GetBarsQuery(KEY, 1000, start=bars[3].time, end=bars[6].time)))
    assert [b["timestamp"] for b in body["bars"]] == [b.time for b in bars[3:7]]


async def test_get_bars_as_csv(world):
    bars = await _synced(world, count=3)
    text = (await _body(world, GetBarsQuery(KEY, 1000, format=BarsFormat.CSV))).decode()
    lines = text.strip().splitlines()
    assert lines[0] == "time,open,high,low,close,volume,partial" and len(lines) == 4
    assert lines[1].split(",")[4] == repr(bars[0].close)


async def test_second_read_is_served_from_cache(world):
    await _synced(world)
    await world.mediator.send(GetBarsQuery(KEY, limit=10))
    await world.mediator.send(GetBarsQuery(KEY, limit=10))
    assert world.cache.computed == 1


async def test_track_untrack_and_list_symbols(world):
    await _synced(world)
    view = await world.mediator.send(TrackSymbolCommand(instrument(BTC), (Interval.M1, Interval.D1)))
    tracked = view.tracked
    assert tracked.description and tracked.active and tracked.intervals == (Interval.M1, Interval.D1)
    assert view.metadata.is_always_open_utc  # the fake source names no session: 24x7 UTC
    world.clock.advance(5)
    await world.mediator.send(UntrackSymbolCommand(instrument(BTC), (Interval.M1,)))
    [still] = await world.mediator.send(ListSymbolsQuery())
    assert still.tracked.intervals == (Interval.D1,) and still.tracked.created_at < still.tracked.updated_at
    await world.mediator.send(UntrackSymbolCommand(instrument(BTC)))
    assert await world.mediator.send(ListSymbolsQuery()) == []
    assert len(await world.mediator.send(ListSymbolsQuery(active_only=False))) == 1


async def test_search_and_sync_status_with_coverage(world):
    await _synced(world)
    [match] = await world.mediator.send(SearchSymbolsQuery("btc"))
    assert match.symbol == BTC and match.source == "tradingview"
    [view] = await world.mediator.send(GetSyncStatusQuery(exchange="BINANCE"))
    assert view.coverage.bar_count == 20 and view.state.bars_written == 20
    assert await world.mediator.send(GetSyncStatusQuery(exchange="NASDAQ")) == []


async def test_search_of_an_unregistered_source_names_the_source_field(world):
    import pytest

    from src.common.errors import InvalidRequest

    with pytest.raises(InvalidRequest) as caught:
        await world.mediator.send(SearchSymbolsQuery("btc", source="nowhere"))
    assert caught.value.field == "source"


async def test_stored_bar_rows_have_the_one_public_bar_shape(world):
    from src.common.bar_shape import bar_fields

    bars = await _synced(world, count=4)
    body = orjson.loads(await _body(world, GetBarsQuery(KEY, limit=4)))
    assert body["bars"] == [orjson.loads(orjson.dumps(bar_fields(bar))) for bar in bars]


async def test_tracking_syncs_the_new_intervals_at_once_without_waiting_for_a_job(world):
    bars = world.provider.add_history(BTC, Interval.M1, int(world.clock.now()) - 30 * 60, 30)
    view = await world.mediator.send(TrackSymbolCommand(instrument(BTC), (Interval.M1,)))
    [started] = view.first_syncs
    assert started.key == KEY and started.status == "pending"
    await world.exposed("market_data", "sync_runs").stop()  # waits for the background run to finish
    assert sorted(world.stored(BTC, Interval.M1)) == [bar.time for bar in bars]
    [status] = await world.mediator.send(GetSyncStatusQuery(exchange="BINANCE"))
    assert status.state.status == "completed" and status.state.bars_written == 30


async def test_tracking_again_syncs_only_the_intervals_not_yet_tracked(world):
    world.provider.add_history(BTC, Interval.M1, int(world.clock.now()) - 30 * 60, 30)
    await world.mediator.send(TrackSymbolCommand(instrument(BTC), (Interval.M1,)))
    view = await world.mediator.send(TrackSymbolCommand(instrument(BTC), (Interval.M1, Interval.D1)))
    assert [state.key.interval for state in view.first_syncs] == [Interval.D1]
    await world.mediator.send(UntrackSymbolCommand(instrument(BTC)))
    view = await world.mediator.send(TrackSymbolCommand(instrument(BTC), (Interval.M1,)))  # tracked again
    assert [state.key.interval for state in view.first_syncs] == [Interval.M1]
