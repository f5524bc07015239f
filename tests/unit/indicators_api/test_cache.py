"""Indicator and feature results are cached per series under its `ohlcv:` keys: one invalidation after a
write to the series (sync or live bar) drops them with its bars, and a result computed while a write lands
is not kept."""

import asyncio
from fnmatch import fnmatchcase

from src.common import cache_keys
from src.domain.events import BarSyncedEvent
from src.domain.market_data import Interval, SeriesKey, Symbol
from src.features.indicators.messages import GetIndicatorsQuery
from src.features.indicators.reading import Window
from src.infrastructure.cache.memory_cache import MemoryCache
from tests.unit.indicators_api.conftest import KEY, PATH, client_of, random_series
from tests.world import World

PARAMS = {"interval": "1m", "indicators": "rsi:14,sma:20", "limit": 10}
OTHER = SeriesKey(Symbol("BINANCE", "ETHUSDT"), Interval.M1, "tradingview")


async def _synced(world: World, key: SeriesKey = KEY) -> None:
    """What the market-data slice does after every write to a series (a sync batch or a live bar): drop its
    cached queries, then tell subscribers."""
    await world.cache.delete_pattern(cache_keys.ohlcv_series_pattern(key))
    await world.event_bus.publish(BarSyncedEvent(key=key, bars_fetched=1, bars_written=1, first_bar_time=None,
                                                 last_bar_time=None, occurred_at=world.clock.now()))


async def test_a_repeated_query_is_served_from_the_cache_until_a_write_to_its_series_invalidates_it():
    world = World(rate_limit_enabled=False)
    bars = random_series(500).bars()
    await world.bars.upsert(KEY, bars[:499])
    async with client_of(world) as api:
        first = await api.get(PATH, params=PARAMS)
        again = await api.get(PATH, params=PARAMS)
        assert world.cache.computed == 1 and again.content == first.content
        await world.bars.upsert(KEY, bars[499:])
        await _synced(world, OTHER)  # another series' write leaves this entry alone
        assert (await api.get(PATH, params=PARAMS)).content == first.content
        await _synced(world)
        after = (await api.get(PATH, params=PARAMS)).json()
    assert world.cache.computed == 2 and after["rows"][-1]["timestamp"] == bars[499].time


async def test_indicator_and_feature_keys_fall_under_the_series_invalidation_pattern_and_generation():
    pattern = cache_keys.ohlcv_series_pattern(KEY)
    for kind in ("indicators", "features"):
        key = cache_keys.derived_query(KEY, kind, "rsi:14,macd:12:26:9", None, None, 500, "json")
        assert fnmatchcase(key, pattern)
        assert cache_keys.series_generation(key) == cache_keys.series_generation(pattern) is not None
        assert key.split(":")[5] == kind  # where a bars query has its limit (digits or empty): never equal


async def test_a_result_computed_while_its_series_is_written_is_returned_but_not_cached():
    cache = MemoryCache(generation_of=cache_keys.series_generation)
    world = World(cache=cache, rate_limit_enabled=False)
    await world.bars.upsert(KEY, random_series(300).bars())
    read, gate = world.bars.read, asyncio.Event()

    async def slow_read(*args, **kwargs):
        await gate.wait()
        return await read(*args, **kwargs)

    world.bars.read = slow_read
    query = GetIndicatorsQuery(KEY, (), Window(limit=5))
    pending = asyncio.create_task(world.mediator.send(query))
    await asyncio.sleep(0)
    await _synced(world)  # the write lands while the query reads
    gate.set()
    assert (await pending).startswith(b"{")
    assert await world.mediator.send(query) == await pending
    assert cache.hits == 0  # computed again: the first result was not kept
    await world.mediator.send(query)
    assert cache.hits == 1
