"""A hung Redis (stopped with SIGSTOP, not killed: connections are accepted, nothing answers) costs each
request at most the first second, not a timeout plus a retry per command: the circuit breaker in front of
the client remembers that it is down, a probe finds it back."""

import asyncio
import statistics
import time

import pytest

from src.infrastructure.cache.circuit_breaker import BreakerState, CircuitBreaker
from src.infrastructure.cache.redis_cache import RedisCache
from src.infrastructure.cache.redis_client import redis_client

pytestmark = pytest.mark.integration
TIMEOUT_S = 0.5


async def timed(call) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


async def test_while_redis_hangs_cache_calls_fail_fast_after_the_first_timeouts(own_redis):
    breaker = CircuitBreaker(failures_to_open=3, open_s=0.3, max_open_s=1.0)
    client = redis_client(own_redis.url, timeout_s=TIMEOUT_S, breaker=breaker)
    cache = RedisCache(client, socket_timeout=TIMEOUT_S)
    try:
        await cache.set("k", {"v": 1}, 60)
        own_redis.pause()
        stopped = time.perf_counter()
        late: list[float] = []
        while time.perf_counter() - stopped < 3.0:  # 16 concurrent callers, as many requests would
            started = time.perf_counter()
            latencies = await asyncio.gather(*(timed(lambda: cache.get("k")) for _ in range(16)))
            if started - stopped > 2 * TIMEOUT_S + 0.2:  # after the first timeout and its retry
                late += latencies
        assert breaker.state is not BreakerState.CLOSED
        assert len(late) > 100
        p99 = statistics.quantiles(late, n=100)[98]
        assert p99 < 0.01 and max(late) < TIMEOUT_S / 2, f"p99 {p99 * 1000:.1f} ms, slowest {max(late):.3f}s"
        assert breaker.rejections > 100
        own_redis.resume()
        deadline = time.monotonic() + 5
        while await cache.get("k") is None:  # a probe finds the server back and closes the breaker
            assert time.monotonic() < deadline, "the breaker never closed after Redis came back"
            await asyncio.sleep(0.05)
        assert breaker.state is BreakerState.CLOSED
    finally:
        own_redis.resume()
        await client.aclose()


async def test_a_redis_restart_does_not_open_the_breaker(own_redis):
    breaker = CircuitBreaker(failures_to_open=3)
    client = redis_client(own_redis.url, timeout_s=TIMEOUT_S, breaker=breaker)
    cache = RedisCache(client, socket_timeout=TIMEOUT_S)
    try:
        await cache.set("k", 1, 60)
        own_redis.stop()
        own_redis.start()  # the pooled connection is dead; the retry replaces it
        await cache.set("k", 2, 60)
        assert await cache.get("k") == 2
        assert breaker.state is BreakerState.CLOSED and cache.errors == 0
    finally:
        await client.aclose()
