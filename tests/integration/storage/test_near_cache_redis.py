"""The Redis cache's near cache against a throwaway redis-server: hits without a round trip, invalidation
across workers (two `RedisCache` instances on one Redis), the race guard, TTLs, outage and recovery."""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis

from src.common.settings import Settings
from src.infrastructure.cache.redis_cache import RedisCache
from tests.fixtures.caches import OwnedRedisCache

pytestmark = pytest.mark.integration

KEY = "ohlcv:AAPL:NASDAQ:1m:500::"
PATTERN = "ohlcv:AAPL:NASDAQ:1m:*"


@pytest.fixture
def url(redis_server) -> str:
    with redis.Redis.from_url(redis_server.url) as client:
        client.flushdb()  # our own throwaway server
    return redis_server.url


async def _started(url: str, **options: float) -> RedisCache:
    cache = OwnedRedisCache(url, near_prefixes=("ohlcv:",), near_heartbeat_s=0.2, near_reconnect_max_s=0.3, **options)
    await cache.start()
    await _until(lambda: cache.near_active, "the near cache is active")
    return cache


@pytest.fixture
async def workers(url) -> AsyncIterator[tuple[RedisCache, RedisCache]]:
    a, b = await _started(url), await _started(url)  # as if in two processes
    yield a, b
    await a.aclose()
    await b.aclose()


async def _until(condition: Callable[[], bool], what: str, within_s: float = 3.0) -> None:
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within_s}s: {what}")
        await asyncio.sleep(0.01)


async def _until_value(get: Callable[[], Awaitable[object]], expected: object, within_s: float = 3.0) -> None:
    deadline = time.monotonic() + within_s
    while (value := await get()) != expected:
        if time.monotonic() > deadline:
            raise AssertionError(f"still {value!r}, not {expected!r}, after {within_s}s")
        await asyncio.sleep(0.01)


def _redis_reads(url: str) -> int:
    """GETs Redis has served so far (alone, or in a MULTI with PTTL)."""
    with redis.Redis.from_url(url) as client:
        return int(client.info("commandstats").get("cmdstat_get", {}).get("calls", 0))


async def test_near_hit_makes_no_redis_call(workers, url) -> None:
    a, _ = workers
    await a.set(KEY, b"500 bars", 60)
    assert await a.get(KEY) == b"500 bars"  # loads it near
    reads = _redis_reads(url)
    for _ in range(50):
        assert await a.get(KEY) == b"500 bars"
    assert await a.get_or_set(KEY, 60, _never) == b"500 bars"
    assert _redis_reads(url) == reads
    assert (a.hits, a.near_hits, a.misses) == (52, 51, 0)


async def test_keys_outside_the_prefixes_are_never_near_cached(workers, url) -> None:
    a, _ = workers
    await a.set("quote:latest:NASDAQ:AAPL", {"price": 1.0}, 60)
    reads = _redis_reads(url)
    for _ in range(5):
        assert await a.get("quote:latest:NASDAQ:AAPL") == {"price": 1.0}
    assert _redis_reads(url) == reads + 5
    assert a.near_hits == 0


async def test_get_or_set_keeps_its_computed_value_near(workers, url) -> None:
    a, _ = workers
    assert await a.get_or_set(KEY, 60, _bars) == {"bars": 500}
    reads = _redis_reads(url)
    assert await a.get_or_set(KEY, 60, _never) == {"bars": 500}
    assert _redis_reads(url) == reads and a.near_hits == 1


async def test_a_write_on_one_worker_invalidates_the_other(workers) -> None:
    a, b = workers
    for invalidate, after in (
        (lambda: a.delete_pattern(PATTERN), None),
        (lambda: a.delete(KEY), None),
        (lambda: a.set(KEY, {"v": "new"}, 60), {"v": "new"}),
    ):
        await a.set(KEY, {"v": "old"}, 60)
        await _until_value(lambda: b.get(KEY), {"v": "old"})
        assert await b.get(KEY) == {"v": "old"} and b.near_hits > 0  # served near by now
        await invalidate()
        await _until_value(lambda: b.get(KEY), after)
        for _ in range(20):  # once received, the old value never comes back
            assert await b.get(KEY) == after
            await asyncio.sleep(0.005)


async def test_own_writes_drop_local_entries_at_once(workers) -> None:
    a, _ = workers
    await a.set(KEY, "old", 60)
    assert await a.get(KEY) == "old"
    await a.set(KEY, "new", 60)
    assert await a.get(KEY) == "new"
    await a.delete_pattern(PATTERN)
    assert await a.get(KEY) is None


async def test_a_value_read_before_an_invalidation_is_not_kept_near(workers, url) -> None:
    a, b = workers
    await a.set(KEY, "old", 60)
    real_pipeline = b._redis.pipeline

    def pipeline_racing_a_delete(*args, **kwargs):
        pipe = real_pipeline(*args, **kwargs)
        execute = pipe.execute

        async def execute_then_invalidate(*eargs, **ekwargs):
            result = await execute(*eargs, **ekwargs)  # "old" read from Redis ...
            epoch = b._near.epoch
            await a.delete(KEY)  # ... invalidated on the other worker before b keeps it
            await _until(lambda: b._near.epoch != epoch, "b received the invalidation")
            return result

        pipe.execute = execute_then_invalidate
        return pipe

    b._redis.pipeline = pipeline_racing_a_delete
    try:
        assert await b.get(KEY) == "old"  # answered, as read before the delete
    finally:
        b._redis.pipeline = real_pipeline
    reads = _redis_reads(url)
    assert await b.get(KEY) is None  # not served near: asked Redis
    assert _redis_reads(url) == reads + 1


async def test_a_value_computed_across_an_invalidation_is_not_kept_near(workers, url) -> None:
    a, b = workers

    async def slow_compute() -> str:
        epoch = b._near.epoch
        await a.delete_pattern(PATTERN)  # a write lands while b computes from the old data
        await _until(lambda: b._near.epoch != epoch, "b received the invalidation")
        return "computed from old data"

    await b.get_or_set(KEY, 60, slow_compute)
    reads = _redis_reads(url)
    await b.get(KEY)
    assert _redis_reads(url) == reads + 1 and b.near_hits == 0


async def test_near_entries_expire_no_later_than_redis(workers, url) -> None:
    a, b = workers
    await a.set(KEY, "short", 0.3)
    assert await b.get(KEY) == "short"
    expires, _ = b._near._entries[KEY]
    assert expires <= time.monotonic() + 0.3
    await asyncio.sleep(0.35)
    assert await b.get(KEY) is None
    with redis.Redis.from_url(url) as client:
        client.set(KEY, b"\x00forever")  # no TTL: never kept near
    assert await b.get(KEY) == b"forever"
    assert KEY not in b._near._entries


async def test_outage_bypasses_and_clears_the_near_cache_and_recovery_resumes_it(redis_server, url) -> None:
    cache = await _started(url, socket_timeout=0.3, lock_wait=0.1)
    try:
        await cache.set(KEY, "v", 60)
        assert await cache.get(KEY) == "v" and len(cache._near) == 1
        redis_server.stop()
        try:
            await _until(lambda: not cache.near_active, "the outage is noticed")
            assert len(cache._near) == 0
            assert await cache.get(KEY) is None  # a miss, not a near hit nor an error
            assert await cache.get_or_set(KEY, 60, _bars) == {"bars": 500}
            assert len(cache._near) == 0
        finally:
            redis_server.start()
        await _until(lambda: cache.near_active, "the listener resubscribed by itself", within_s=5.0)

        async def write_and_read() -> object:  # the pool's first command after the restart may fail
            await cache.set(KEY, "back", 60)
            return await cache.get(KEY)

        await _until_value(write_and_read, "back")
        near_hits = cache.near_hits
        assert await cache.get(KEY) == "back"
        assert cache.near_hits == near_hits + 1
    finally:
        await cache.aclose()


async def test_near_cache_is_bypassed_until_started(url) -> None:
    cache = OwnedRedisCache(url, near_prefixes=("ohlcv:",))
    try:
        await cache.set(KEY, "v", 60)
        assert await cache.get(KEY) == "v"
        assert await cache.get(KEY) == "v"
        assert cache.near_hits == 0 and not cache.near_active
    finally:
        await cache.aclose()


def test_settings_configure_the_near_cache(url) -> None:
    from src.app.root import bootstrap

    def cache_of(**values) -> RedisCache:
        cache = bootstrap(Settings(_env_file=None, redis_url=url, **values)).core.cache  # type: ignore[call-arg]
        assert isinstance(cache, RedisCache)
        return cache

    cache = cache_of(cache_near_max_entries=5)
    assert cache._near.covers(KEY) and not cache._near.covers("quote:x") and cache._near._max_entries == 5
    assert not cache_of(cache_near_enabled=False)._near.enabled


async def _bars() -> dict[str, int]:
    return {"bars": 500}


async def _never() -> None:
    raise AssertionError("should have been served from the cache")
