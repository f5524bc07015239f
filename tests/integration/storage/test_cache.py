"""Both cache adapters run the same tests: Redis against a throwaway redis-server, and in-process."""

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import redis

from src.common import cache_keys as keys
from src.domain.market_data import Interval, SeriesKey, Symbol
from src.infrastructure.cache.memory_cache import MemoryCache
from src.infrastructure.cache.redis_cache import RedisCache
from tests.fixtures.caches import OwnedRedisCache

pytestmark = pytest.mark.integration

SERIES = SeriesKey(Symbol("NASDAQ", "AAPL"), Interval.M1, "tradingview")


@pytest.fixture
def flushed_redis(redis_server) -> str:
    with redis.Redis.from_url(redis_server.url) as client:
        client.flushdb()  # our own throwaway server
    return redis_server.url


@pytest.fixture(params=["redis", "memory"])
async def cache(request) -> AsyncIterator[RedisCache | MemoryCache]:
    if request.param == "memory":
        yield MemoryCache(generation_of=keys.series_generation)
        return
    adapter = OwnedRedisCache(request.getfixturevalue("flushed_redis"), generation_of=keys.series_generation)
    yield adapter
    await adapter.aclose()


async def test_round_trip_of_json_values_and_bytes(cache) -> None:
    value = {"a": [1, 2.5, "x", None, True], "nested": {"k": "v"}}
    await cache.set("k1", value, 60)
    assert await cache.get("k1") == value
    await cache.set("raw", b"\x00\x01{not json", 60)
    assert await cache.get("raw") == b"\x00\x01{not json"
    await cache.set("when", {"at": datetime(2024, 3, 1, 12, 30, tzinfo=UTC)}, 60)
    assert await cache.get("when") == {"at": "2024-03-01T12:30:00+00:00"}
    assert await cache.get("absent") is None
    assert (cache.hits, cache.misses) == (3, 1)


async def test_ttl_expires(cache) -> None:
    await cache.set("short", "v", 0.05)
    await cache.set("long", "v", 60)
    await asyncio.sleep(0.1)
    assert await cache.get("short") is None
    assert await cache.get("long") == "v"


async def test_set_many_writes_every_entry_with_its_ttl_and_deletes_at_ttl_zero(cache) -> None:
    await cache.set("gone", "v", 60)
    entries = [(f"many:{i}", {"i": i, "raw": i % 2 == 0}, 60) for i in range(1200)]  # several batches
    assert await cache.set_many([*entries, ("short", "s", 0.05), ("gone", "x", 0)]) == 0
    assert [await cache.get(f"many:{i}") for i in range(1200)] == [value for _, value, _ in entries]
    assert await cache.get("gone") is None
    await asyncio.sleep(0.1)
    assert await cache.get("short") is None


async def test_redis_set_many_survives_a_flushed_script_cache_and_counts_an_outage(redis_server, flushed_redis):
    cache = OwnedRedisCache(redis_server.url, socket_timeout=0.3)
    try:
        with redis.Redis.from_url(redis_server.url) as client:
            client.script_flush()
        assert await cache.set_many([("a", 1, 60), ("b", 2, 60)]) == 0
        assert (await cache.get("a"), await cache.get("b")) == (1, 2)
        redis_server.stop()
        assert await cache.set_many([(f"k{i}", i, 60) for i in range(600)]) == 600
    finally:
        redis_server.start()
        await cache.aclose()


async def test_delete_and_delete_pattern(cache) -> None:
    for i in range(1200):  # more than one SCAN batch
        await cache.set(keys.ohlcv_query(SERIES, i, None), i, 60)
    other = SeriesKey(Symbol("NASDAQ", "AAPL"), Interval.H1, "tradingview")
    await cache.set(keys.ohlcv_query(other, "limit=5"), 1, 60)
    await cache.set(keys.latest_quote(SERIES.instrument), {"price": 1.0}, keys.QUOTE_TTL_S)
    assert await cache.delete_pattern(keys.ohlcv_series_pattern(SERIES)) == 1200
    assert await cache.get(keys.ohlcv_query(SERIES, 7, None)) is None
    assert await cache.get(keys.ohlcv_query(other, "limit=5")) == 1
    assert await cache.delete(keys.latest_quote(SERIES.instrument), "nope") == 1


async def test_get_or_set_computes_once_for_concurrent_misses(cache) -> None:
    calls = 0

    async def compute() -> dict[str, int]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return {"bars": 5000}

    results = await asyncio.gather(*(cache.get_or_set("hot", 60, compute) for _ in range(20)))
    assert results == [{"bars": 5000}] * 20
    assert calls == 1
    assert await cache.get_or_set("hot", 60, compute) == {"bars": 5000}
    assert calls == 1


async def test_get_or_set_propagates_compute_errors_to_all_waiters(cache) -> None:
    async def boom() -> None:
        await asyncio.sleep(0.01)
        raise ValueError("upstream said no")

    results = await asyncio.gather(*(cache.get_or_set("bad", 60, boom) for _ in range(3)), return_exceptions=True)
    assert all(isinstance(r, ValueError) for r in results)
    assert await cache.get("bad") is None


async def test_ping(cache) -> None:
    assert await cache.ping()


def test_key_scheme_names_the_source_in_every_key() -> None:
    symbol = Symbol("CME", "ES1!")
    series = SeriesKey(symbol, Interval.H1, "tradingview")
    assert keys.latest_quote(series.instrument) == "quote:latest:tradingview:CME:ES1!"
    assert keys.current_bar(series.instrument, Interval.M5) == "bar:current:tradingview:CME:ES1!:5m"
    assert keys.ohlcv_query(series, "start=1", "end=2", 500) == "ohlcv:tradingview:ES1!:CME:1h:start=1:end=2:500"
    assert keys.ohlcv_series_pattern(series) == "ohlcv:tradingview:ES1!:CME:1h:*"
    binance = SeriesKey(symbol, Interval.H1, "binance")
    assert keys.ohlcv_query(binance, 500) != keys.ohlcv_query(series, 500)
    assert (keys.QUOTE_TTL_S, keys.CURRENT_BAR_TTL_S, keys.OHLCV_QUERY_TTL_S) == (60, 300, 300)


async def test_memory_cache_ttl_uses_the_injected_clock() -> None:
    now = [100.0]
    cache = MemoryCache(clock=lambda: now[0], max_entries=2)
    await cache.set("a", 1, 10)
    now[0] = 109.9
    assert await cache.get("a") == 1
    now[0] = 110.0
    assert await cache.get("a") is None
    await cache.set("x", 1, 5)
    await cache.set("y", 1, 50)
    await cache.set("z", 1, 500)
    assert await cache.get("x") is None  # evicted: closest to expiry
    assert await cache.get("z") == 1


async def test_redis_outage_degrades_to_misses_and_recovers(redis_server, flushed_redis) -> None:
    cache = OwnedRedisCache(redis_server.url, socket_timeout=0.3, lock_wait=0.1)
    try:
        await cache.set("k", {"v": 1}, 60)
        redis_server.stop()
        started = time.monotonic()
        assert await cache.get("k") is None
        await cache.set("k", {"v": 2}, 60)
        assert await cache.delete("k") == 0
        assert await cache.delete_pattern("k*") == 0
        assert await cache.get_or_set("k", 60, _value) == {"v": 3}
        assert not await cache.ping()
        assert time.monotonic() - started < 3.0
        assert cache.errors >= 6
    finally:
        redis_server.start()
    try:
        # The same client reconnects by itself, once its circuit breaker's probe finds the server back.
        deadline = time.monotonic() + 5
        while not await cache.ping():
            assert time.monotonic() < deadline, "the client never came back"
            await asyncio.sleep(0.05)
        await cache.set("k", {"v": 4}, 60)
        assert await cache.get("k") == {"v": 4}
    finally:
        await cache.aclose()


async def _value() -> dict[str, int]:
    return {"v": 3}


async def test_redis_workers_share_one_computation_through_the_lock(flushed_redis) -> None:
    workers = [OwnedRedisCache(flushed_redis) for _ in range(3)]  # as if in three processes
    calls = 0

    async def compute() -> list[int]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.1)
        return [1, 2, 3]

    try:
        results = await asyncio.gather(*(w.get_or_set("shared", 60, compute) for w in workers))
        assert results == [[1, 2, 3]] * 3
        assert calls == 1
    finally:
        for w in workers:
            await w.aclose()


async def test_a_result_computed_across_an_invalidation_is_returned_but_not_cached(cache) -> None:
    """A read that loaded bars before a sync wrote and invalidated them must not cache those old bars."""
    key = keys.ohlcv_query(SERIES, 500, None, None, "asc", "json")
    computing, release = asyncio.Event(), asyncio.Event()

    async def read_before_the_write():
        computing.set()
        await release.wait()
        return {"bars": "old"}

    reader = asyncio.create_task(cache.get_or_set(key, 60, read_before_the_write))
    await computing.wait()
    await cache.delete_pattern(keys.ohlcv_series_pattern(SERIES))  # the sync's invalidation
    release.set()
    assert await reader == {"bars": "old"}
    assert await cache.get(key) is None

    async def read_after_the_write():
        return {"bars": "new"}

    assert await cache.get_or_set(key, 60, read_after_the_write) == {"bars": "new"}
    assert await cache.get(key) == {"bars": "new"}


def test_series_generation_covers_query_keys_and_series_patterns_only() -> None:
    query = keys.ohlcv_query(SERIES, 500)
    assert keys.series_generation(query) == keys.series_generation(keys.ohlcv_series_pattern(SERIES))
    assert keys.series_generation(query) == "gen:ohlcv:tradingview:AAPL:NASDAQ:1m"
    assert keys.series_generation(keys.latest_quote(SERIES.instrument)) is None
    assert keys.series_generation("ohlcv:*") is None
