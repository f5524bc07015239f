"""The Redis token bucket itself: atomic across concurrent callers, auto-pipelined, self-healing."""

import asyncio
import uuid

import pytest
from redis.asyncio import Redis

from src.infrastructure.http.rate_limit import RedisLimiter
from src.infrastructure.observability.metrics import Metrics

pytestmark = pytest.mark.integration


@pytest.fixture
async def redis(redis_server):
    client = Redis.from_url(redis_server.url, socket_timeout=1)
    yield client
    await client.aclose()


def _limiter(redis, capacity=30) -> RedisLimiter:
    # A refill this slow adds no token during the test.
    return RedisLimiter(redis, capacity, 0.001, metrics=Metrics(), prefix=f"test:{uuid.uuid4().hex}:")


async def test_concurrent_hits_share_round_trips_and_take_exactly_the_capacity(redis, monkeypatch):
    limiter = _limiter(redis, capacity=30)
    batcher = limiter._batcher
    round_trips = 0
    pipeline = batcher._pipeline

    async def counted(batch):
        nonlocal round_trips
        round_trips += 1
        return await pipeline(batch)

    monkeypatch.setattr(batcher, "_pipeline", counted)
    decisions = await asyncio.gather(*(limiter.hit("10.0.0.1") for _ in range(50)))
    assert sum(d.allowed for d in decisions) == 30
    assert round_trips < 10  # 50 checks, a handful of pipelines
    assert (await limiter.hit("10.0.0.2")).allowed  # buckets are per client


async def test_a_flushed_script_cache_is_reloaded_transparently(redis):
    limiter = _limiter(redis)
    assert (await limiter.hit("10.0.0.1")).allowed
    await redis.script_flush()
    decision = await limiter.hit("10.0.0.1")
    assert decision.allowed and decision.tokens == pytest.approx(28, abs=0.1)
    assert limiter._metrics.rate_limit_fail_open._value.get() == 0
