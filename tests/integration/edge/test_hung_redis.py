"""Requests through the whole edge stay fast while Redis hangs (SIGSTOP): the rate limiter and the cache
both use it on every ohlcv query. The outage is logged in a handful of lines, not one per request."""

import asyncio
import statistics
import time

import httpx

TIMEOUT_S = 0.5
OHLCV = "/api/v1/market-data/ohlcv/BINANCE/BTCUSDT?interval=1m&limit=10"


def test_requests_through_the_app_stay_fast_while_redis_hangs_and_warnings_are_throttled(
        own_redis, edge_server, captured_logs):
    server, _ = edge_server(redis_url=own_redis.url, redis_timeout_s=TIMEOUT_S, redis_breaker_open_s=0.5)
    with httpx.Client(base_url=server.url, timeout=10) as client:
        assert client.get(OHLCV).status_code < 500
        own_redis.pause()
        try:
            stopped = time.perf_counter()
            late = asyncio.run(_load(server.url, stopped, seconds=3.0, after_s=2 * TIMEOUT_S + 0.3))
            metrics = client.get("/metrics").text
        finally:
            own_redis.resume()
    assert len(late) > 50
    percentiles = statistics.quantiles(late, n=100)
    # Without the breaker each query waits about 4 s (timeout and retry of the limiter, the cache read, the
    # compute lock, the generation); the bounds leave room for a loaded machine running the load generator
    # and the server in one process (`make bench` measures `hung_redis_p99_ms` in separate processes).
    assert percentiles[49] < 0.1 and percentiles[94] < 0.3, f"p50 {percentiles[49]:.3f}s p95 {percentiles[94]:.3f}s"
    assert "redis_circuit_open 1.0" in metrics
    opened = [e for e in captured_logs.events if e.get("event") == "redis_circuit_opened"]
    limiter = [e for e in captured_logs.events if e.get("event") == "rate limiter store unavailable; failing open"]
    assert len(opened) <= 3 and len(limiter) <= 2  # hundreds of requests, a handful of lines


async def _load(url: str, stopped: float, *, seconds: float, after_s: float) -> list[float]:
    late: list[float] = []
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        async def worker() -> None:
            while time.perf_counter() - stopped < seconds:
                started = time.perf_counter()
                response = await client.get(OHLCV)
                assert response.status_code < 500
                if started - stopped > after_s:
                    late.append(time.perf_counter() - started)
        await asyncio.gather(*(worker() for _ in range(8)))
    return late
