"""`hung_redis_p99_ms`: p99 latency of the cached ohlcv query while Redis hangs (issue 13; target ≤ 50 ms
after the first second).

The app runs as `make run` serves it (`benchmarks/_serve_app.py`: embedded store, the full edge stack with
the rate limiter on Redis) with a throwaway redis-server as its cache and the TradingView simulator as its
upstream. 500 1m bars are synced, the query `ohlcv?interval=1m&limit=500` is warmed, then 32 connections
load it for `DURATION_S` seconds (an aiohttp generator in a subprocess pinned to the load CPUs that
records when each request was sent). `STOP_AFTER_S` into the load, redis-server is stopped with SIGSTOP:
it still accepts connections, nothing answers. Figures:

- `hung_redis_p99_ms`: p99 of the requests sent from one second after the stop to the end;
- `hung_redis_first_second_max_ms`: the slowest request sent in the first second (the timeouts that open
  the breaker: bounded by about one Redis timeout);
- `hung_redis_baseline_p99_ms`: p99 before the stop, Redis answering;
- `hung_redis_rps`: requests per second after the first second.
"""

import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks._load import CONNECTIONS, cpus, pin, serving
from benchmarks.bench_market_data import SimulatorThread
from tests.fixtures.servers import RedisServer

DURATION_S = 7.0
STOP_AFTER_S = 2.0
BARS = 500
OHLCV = f"/api/v1/market-data/ohlcv/BINANCE/BTCUSDT?interval=1m&limit={BARS}"

_TIMED_LOADGEN = """
import asyncio, json, sys, time, aiohttp
async def main(url, conns, duration):
    samples = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=conns)) as session:
        stop = time.time() + duration
        async def worker():
            while time.time() < stop:
                sent, started = time.time(), time.perf_counter()
                async with session.get(url) as r:
                    await r.read()
                    assert r.status == 200, r.status
                samples.append((sent, time.perf_counter() - started))
        await asyncio.gather(*(worker() for _ in range(conns)))
    print(json.dumps(samples))
asyncio.run(main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3])))
"""


def _timed_load(url: str, seconds: float) -> subprocess.Popen[str]:
    process = subprocess.Popen([sys.executable, "-c", _TIMED_LOADGEN, url, str(CONNECTIONS), str(seconds)],
                               stdout=subprocess.PIPE, text=True)
    pin(process.pid, cpus()[1])
    return process


def _p99_ms(latencies: list[float]) -> float:
    return round(statistics.quantiles(latencies, n=100)[98] * 1000, 2)


def _measure(base_url: str, redis: RedisServer) -> dict[str, float]:
    with httpx.Client(base_url=base_url, timeout=60) as client:
        sync = client.post("/api/v1/market-data/sync", json={"exchange": "BINANCE", "symbol": "BTCUSDT",
                                                            "interval": "1m", "n_bars": BARS})
        sync.raise_for_status()
        for _ in range(3):
            client.get(OHLCV).raise_for_status()  # cached from here on
    started = time.time()
    loadgen = _timed_load(base_url + OHLCV, DURATION_S)
    stopper = threading.Timer(STOP_AFTER_S, redis.pause)
    stopper.start()
    try:
        out, _ = loadgen.communicate(timeout=DURATION_S + 60)
    finally:
        stopper.join()
        redis.resume()
    if loadgen.returncode != 0:
        raise RuntimeError("the load generator failed (a request was not answered 200)")
    stopped_at = started + STOP_AFTER_S
    samples: list[tuple[float, float]] = json.loads(out)
    before = [latency for sent, latency in samples if sent < stopped_at]
    first_second = [latency for sent, latency in samples if stopped_at <= sent < stopped_at + 1]
    after = [(sent, latency) for sent, latency in samples if sent >= stopped_at + 1]
    span = max(sent for sent, _ in after) - (stopped_at + 1)
    return {
        "hung_redis_p99_ms": _p99_ms([latency for _, latency in after]),
        "hung_redis_first_second_max_ms": round(max(first_second) * 1000, 1),
        "hung_redis_baseline_p99_ms": _p99_ms(before),
        "hung_redis_rps": round(len(after) / span, 1),
    }


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="pq-bench-hung-") as tmp:
        redis = RedisServer(Path(tmp))
        simulator = SimulatorThread()
        try:
            simulator.start()
            sim = simulator.sim
            settings: dict[str, Any] = {
                "redis_url": redis.url,
                "tradingview_ws_url": sim.ws_url,
                "tradingview_search_url": sim.search_url,
                "tradingview_signin_url": sim.signin_url,
                "rate_limit_capacity": 10**9,
                "rate_limit_refill_per_s": 10**9,
            }
            with serving(settings) as (app,):
                return _measure(app.base_url, redis)
        finally:
            try:
                simulator.stop()
            finally:
                redis.stop()


if __name__ == "__main__":
    print(run())
