"""The process's one Redis client survives a Redis restart: the connection the restart killed fails on its
first use and the client's retry replaces it, so the cache, the rate limiter and the idempotency store
sharing it see no error at all (a real redis-server is restarted between a write and a read)."""

import pytest
import redis
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from src.infrastructure.cache.redis_cache import RedisCache
from src.infrastructure.cache.redis_client import redis_client
from src.infrastructure.http.rate_limit import RedisLimiter
from src.infrastructure.observability.metrics import Metrics

pytestmark = pytest.mark.integration


@pytest.fixture
def url(redis_server) -> str:
    with redis.Redis.from_url(redis_server.url) as client:
        client.flushdb()
    return redis_server.url


async def _write_restart_read(client: Redis, redis_server) -> tuple[RedisCache, RedisLimiter, Metrics]:
    cache = RedisCache(client, socket_timeout=0.5)
    metrics = Metrics()
    limiter = RedisLimiter(client, 10, 1.0, metrics=metrics, prefix="test:restart:")
    await cache.set("k", {"v": 1}, 60)
    assert (await limiter.hit("127.0.0.1")).allowed
    redis_server.stop()
    redis_server.start()  # an empty server on the same port: the pooled connections are dead
    assert await cache.get("k") is None
    await cache.set("k", {"v": 2}, 60)
    assert (await limiter.hit("127.0.0.1")).allowed
    return cache, limiter, metrics


async def test_a_restart_between_a_write_and_a_read_costs_no_error(redis_server, url):
    client = redis_client(url, timeout_s=0.5)
    try:
        cache, _, metrics = await _write_restart_read(client, redis_server)
        assert cache.errors == 0 and await cache.get("k") == {"v": 2}
        assert metrics.rate_limit_fail_open._value.get() == 0
    finally:
        await client.aclose()


async def test_without_the_retry_the_same_restart_is_an_error(redis_server, url):
    """The control: the scenario above does break a client that does not retry."""
    client = Redis.from_url(url, socket_timeout=0.5, retry=Retry(NoBackoff(), 0), health_check_interval=0)
    try:
        cache, _, _ = await _write_restart_read(client, redis_server)
        assert cache.errors >= 1
    finally:
        await client.aclose()
