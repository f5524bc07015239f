"""Upstream limits shared by all workers: two worker processes sending to one Binance simulator through one
Redis bucket never exceed the exchange's weight limit, counted at the simulator (which answers 429 past it);
the same two workers with a bucket each do exceed it, so the check can fail."""

import asyncio
import sys

import orjson
import pytest
import redis as sync_redis
from redis.asyncio import Redis

from src.common.errors import SourceUnavailable
from src.infrastructure.upstream.limits import RedisUpstreamLimiter

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]
SECONDS = 3.0
LIMIT, WINDOW = 20, 1.0  # the simulator's weight limit per window (klines weigh 2)
CAPACITY, REFILL = 4.0, 14.0  # the shared bucket: at most 18 weight in any second


async def run_workers(sim, redis_url: str) -> list[dict]:
    command = [sys.executable, "-m", "tests.integration.providers.limit_worker", redis_url, sim.api_url,
               str(SECONDS), str(CAPACITY), str(REFILL)]
    workers = [await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE) for _ in range(2)]
    outputs = await asyncio.gather(*(w.communicate() for w in workers))
    assert all(w.returncode == 0 for w in workers)
    return [orjson.loads(out.strip().splitlines()[-1]) for out, _ in outputs]


@pytest.fixture
def limited(binance_simulator):
    binance_simulator.faults.weight_limit, binance_simulator.faults.weight_window = LIMIT, WINDOW
    binance_simulator.faults.ban_after = 10**6  # count 429s, never ban
    return binance_simulator


async def test_two_workers_sharing_one_redis_bucket_never_exceed_the_limit(limited, redis_server):
    sync_redis.Redis.from_url(redis_server.url).delete("pq:test:binance")
    reports = await run_workers(limited, redis_server.url)
    assert all(r["requests"] > 0 for r in reports)
    assert sum(r["rate_limited"] for r in reports) == 0
    sent = limited.request_count("/api/v3/klines")
    assert sent == sum(r["requests"] for r in reports)
    # Together they used the shared budget, not twice it: capacity + refill * the time either worked, in
    # requests of weight 2 (the workers start apart, as processes on a busy machine do).
    span = max(r["ended"] for r in reports) - min(r["began"] for r in reports)
    assert sent <= (CAPACITY + REFILL * span) / 2 + 1
    assert sent >= REFILL * SECONDS / 2 * 0.7


async def test_two_workers_with_a_bucket_each_exceed_it(limited):
    reports = await run_workers(limited, "-")
    assert sum(r["rate_limited"] for r in reports) > 0


async def test_a_block_by_one_worker_stops_the_other(redis_server):
    first_redis, second_redis = Redis.from_url(redis_server.url), Redis.from_url(redis_server.url)
    first = RedisUpstreamLimiter(first_redis, "yahoo", 5, 5, max_wait_s=1, prefix="pq:block:")
    second = RedisUpstreamLimiter(second_redis, "yahoo", 5, 5, max_wait_s=1, prefix="pq:block:")
    try:
        await first.block(30)
        with pytest.raises(SourceUnavailable) as refused:
            await second.acquire()
        assert 28 < refused.value.retry_after_s <= 30
    finally:
        await first_redis.aclose()
        await second_redis.aclose()
