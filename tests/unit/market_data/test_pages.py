"""The page rules of `features/market_data/bar_pages.py`, through the Mediator with the fake repository:
cursors and next links, resampled pages, which pages are cached, and the bound on streamed downloads."""

import numpy as np
import orjson
import pandas as pd
import pytest

from src.common.errors import InvalidRequest, Overloaded
from src.domain.market_data import BarColumns, Interval, SeriesKey
from src.features.market_data.messages import BarsFormat, GetBarsQuery
from src.features.market_data.schemas import OhlcvParams
from tests.unit.market_data.conftest import BTC, KEY
from tests.world import World

T0 = 1_709_424_000  # 2024-03-03 00:00 UTC
PATH = "/api/v1/market-data/ohlcv/BINANCE/BTCUSDT"


def minutes(count: int, key: SeriesKey = KEY, step: int = 1) -> BarColumns:
    times = T0 + 60 * step * np.arange(count, dtype=np.int64)
    close = 100 + np.sin(np.arange(count)) * 5
    return BarColumns.of(key, times, close, close + 1, close - 1, close, np.arange(count) % 7 + 0.5,
                         np.arange(count) % 13 == 0)


async def page(world: World, **params) -> tuple[dict, str | None]:
    parsed = OhlcvParams.model_validate({"interval": "1m", **params})
    query = parsed.query(SeriesKey(BTC, Interval.parse(parsed.interval), "tradingview"), PATH)
    result = await world.mediator.send(query)
    return orjson.loads(await result.read()), result.next_url


async def every_page(world: World, **params) -> list[list[int]]:
    pages, url = [], None
    body, url = await page(world, **params)
    pages.append([b["timestamp"] for b in body["bars"]])
    while url:
        cursor = dict(part.split("=") for part in url.split("?")[1].split("&"))
        kept = {k: v for k, v in cursor.items() if k in ("after", "before", "start", "end", "interval", "limit")}
        body, url = await page(world, **kept)
        pages.append([b["timestamp"] for b in body["bars"]])
    return pages


@pytest.fixture
async def stored(world) -> BarColumns:
    bars = minutes(2_500)
    await world.bars.upsert(KEY, bars)
    return bars


async def test_pages_from_the_newest_end_follow_before_cursors_to_the_first_bar(world, stored):
    pages = await every_page(world, limit=1000)
    assert [len(p) for p in pages] == [1000, 1000, 500]
    assert [t for p in reversed(pages) for t in p] == stored.time.tolist()


async def test_pages_from_a_start_follow_after_cursors_to_the_last_bar(world, stored):
    start = int(stored.time[100])
    pages = await every_page(world, start=start, limit=700)
    assert [t for p in pages for t in p] == stored.time.tolist()[100:]
    assert len(pages[-1]) == 2400 - 3 * 700


async def test_the_next_link_names_the_cursor_and_every_other_parameter(world, stored):
    body, url = await page(world, limit=10, format="json")
    oldest = body["bars"][0]["timestamp"]
    expected = f"{PATH}?source=tradingview&interval=1m&limit=10&order=asc&format=json&before={oldest}"
    assert body["next"] == url == expected
    body, url = await page(world, limit=10, after=int(stored.time[-11]))
    assert url is None and body["next"] is None and body["count"] == 10


async def test_a_cursor_page_is_stable_when_bars_are_written_meanwhile(world, stored):
    first, _ = await page(world, limit=1000, after=T0 - 1)
    await world.bars.upsert(KEY, minutes(3_000).last(500))  # newer bars after the cursor's page
    behind = minutes(5)
    await world.bars.upsert(KEY, BarColumns.of(KEY, behind.time, behind.open + 9, behind.high + 9, behind.low + 9,
                                               behind.close + 9, behind.volume))  # bars behind the cursor revised
    second, _ = await page(world, limit=1000, after=first["bars"][-1]["timestamp"])
    assert [b["timestamp"] for b in second["bars"]] == stored.time.tolist()[1000:2000]


async def test_an_interval_not_stored_is_built_from_the_coarsest_finer_one_and_says_so(world, stored):
    fives = SeriesKey(BTC, Interval.M5, "tradingview")
    await world.bars.upsert(SeriesKey(BTC, Interval.M3, "tradingview"), minutes(10, step=3).renamed(
        SeriesKey(BTC, Interval.M3, "tradingview")))
    query = GetBarsQuery(SeriesKey(BTC, Interval.H1, "tradingview"), 5, url=PATH)
    result = await world.mediator.send(query)
    assert result.resampled_from is Interval.M3  # 1h from 3m (stored) before 1m
    rows = orjson.loads(await (await world.mediator.send(GetBarsQuery(fives, 100, url=PATH))).read())["bars"]
    assert (await world.mediator.send(GetBarsQuery(fives, 100, url=PATH))).resampled_from is Interval.M1
    frame = pd.DataFrame({"open": stored.open, "high": stored.high, "low": stored.low, "close": stored.close,
                          "volume": stored.volume, "partial": stored.partial},
                         index=pd.to_datetime(stored.time, unit="s", utc=True))
    expected = frame.resample("5min").agg({"open": "first", "high": "max", "low": "min", "close": "last",
                                           "volume": "sum", "partial": "any"}).tail(100)
    assert [r["timestamp"] for r in rows] == expected.index.as_unit("s").astype("int64").tolist()
    assert [r["high"] for r in rows] == expected["high"].tolist()
    assert [r["partial"] for r in rows] == expected["partial"].tolist()
    assert np.allclose([r["volume"] for r in rows], expected["volume"])


async def test_resampled_pages_hold_only_whole_bars_and_page_on(world, stored):
    pages = await every_page(world, interval="1h", limit=7)  # 2,500 minutes: 41 whole hours and one of 40 min
    hours = [t for p in reversed(pages) for t in p]
    assert hours == [T0 + 3600 * i for i in range(42)]
    assert max(len(p) for p in pages) == 7


async def test_resampling_from_an_interval_it_cannot_be_built_from_is_refused(world, stored):
    with pytest.raises(InvalidRequest) as caught:
        await world.mediator.send(GetBarsQuery(SeriesKey(BTC, Interval.M45, "tradingview"), 10,
                                               resample_from=Interval.M30))
    assert caught.value.field == "resample_from"


async def test_small_pages_are_cached_large_ones_streamed_uncached(stored):
    world = World(ohlcv_cache_max_bars=1000)
    await world.bars.upsert(KEY, minutes(2_500))
    small = await world.mediator.send(GetBarsQuery(KEY, 1000, url=PATH))
    large = await world.mediator.send(GetBarsQuery(KEY, 1001, url=PATH))
    assert small.body is not None and large.body is None and large.chunks is not None
    assert world.cache.computed == 1
    assert len(orjson.loads(await large.read())["bars"]) == 1001


async def test_streamed_downloads_beyond_the_bound_are_refused_until_one_ends():
    world = World(ohlcv_cache_max_bars=10, ohlcv_max_downloads=2)
    await world.bars.upsert(KEY, minutes(100))
    running = [await world.mediator.send(GetBarsQuery(KEY, 100, format=BarsFormat.CSV)) for _ in range(2)]
    with pytest.raises(Overloaded):
        await world.mediator.send(GetBarsQuery(KEY, 100))
    await running[0].read()
    assert (await (await world.mediator.send(GetBarsQuery(KEY, 100))).read()).startswith(b"{")


async def test_a_download_dropped_before_its_body_started_frees_its_place():
    import gc

    world = World(ohlcv_cache_max_bars=10, ohlcv_max_downloads=1)
    await world.bars.upsert(KEY, minutes(100))
    page = await world.mediator.send(GetBarsQuery(KEY, 100))
    with pytest.raises(Overloaded):
        await world.mediator.send(GetBarsQuery(KEY, 100))
    del page  # the client went away before the response began: its chunks are never read
    gc.collect()
    assert len(orjson.loads(await (await world.mediator.send(GetBarsQuery(KEY, 100))).read())["bars"]) == 100


@pytest.mark.parametrize(("params", "field"), [
    ({"limit": 1_000_001}, "limit"), ({"after": T0, "before": T0}, "after"), ({"layout": "columns", "format": "csv"},
                                                                             "layout"),
])
def test_inconsistent_parameters_are_refused(params, field):
    with pytest.raises(ValueError, match=field):
        OhlcvParams.model_validate({"interval": "1m", **params})
    assert OhlcvParams.model_validate({"interval": "1m", "limit": 1_000_001, "format": "arrow"}).limit == 1_000_001
