"""One worker of the shared-limit test, as its own process:

    python -m tests.integration.providers.limit_worker REDIS_URL|- API_URL SECONDS CAPACITY REFILL

It sends `/api/v3/klines` requests (weight 2) from four concurrent loops for SECONDS through the Binance adapter's
REST client, whose budget is the source's token bucket in Redis (or its own in-process bucket with `-`), and
prints `{"requests": n, "rate_limited": n, "began": t, "ended": t}` (wall-clock seconds).
"""

import asyncio
import contextlib
import sys
import time

import orjson
from redis.asyncio import Redis

from src.common.errors import SourceUnavailable
from src.infrastructure.upstream.limits import InProcessUpstreamLimiter, RedisUpstreamLimiter
from src.providers.binance import BinanceConfig, BinanceRest

PARAMS = {"symbol": "BTCUSDT", "interval": "1m", "limit": 1}


async def main(redis_url: str, api_url: str, seconds: float, capacity: float, refill: float) -> None:
    redis = None if redis_url == "-" else Redis.from_url(redis_url)
    limiter = (InProcessUpstreamLimiter("binance", capacity, refill, max_wait_s=30) if redis is None else
               RedisUpstreamLimiter(redis, "binance", capacity, refill, max_wait_s=30, prefix="pq:test:"))
    rest = BinanceRest(BinanceConfig(api_url=api_url, weight_per_minute=10**9), limiter)
    began, deadline = time.time(), time.monotonic() + seconds

    async def hammer() -> None:
        while time.monotonic() < deadline:
            with contextlib.suppress(SourceUnavailable):
                await rest.get("/v3/klines", PARAMS, 2)

    await asyncio.gather(*(hammer() for _ in range(4)))
    await rest.close()
    if redis is not None:
        await redis.aclose()
    ended = time.time()
    print(orjson.dumps({"requests": rest.requests, "rate_limited": rest.rate_limited, "began": began,
                        "ended": ended}).decode())


if __name__ == "__main__":
    url, api, span, cap, rate = sys.argv[1:6]
    asyncio.run(main(url, api, float(span), float(cap), float(rate)))
