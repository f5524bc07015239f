"""Binance and Yahoo Finance figures (issue 15). Each source is its simulator in a process of its own
(`benchmarks/_source_sims.py`, with 25 extra symbols each); the adapters run in this process.

- `binance_history_100k_1m_s`: `fetch_bars` of 100,000 1m bars of BINANCE:BTCUSDT from the Binance simulator
  (100 kline pages, fetched as time windows, 8 in flight), the median of 3 after one unmeasured fetch (which
  warms the simulator's own day cache: the figure is the adapter's, not the synthetic market's). Target <= 2 s.
- `yahoo_history_5000_s`: `fetch_bars` of 5,000 daily bars of YAHOO:AAPL (one chart request), the median of 5
  after one unmeasured fetch. Target <= 0.5 s.
- `bulk_sync_50_series_s`, `bulk_sync_bars_per_s`: one `POST /api/v1/market-data/sync/bulk` of 50 series x 5,000
  1m bars (25 Binance pairs, 25 Yahoo 24x7 tickers), each a first sync, against the app as `make run` serves it
  (uvicorn in its own process, the embedded store, a throwaway redis-server; `SYNC_BULK_CONCURRENCY` 4 per
  source), and the bars written per second of it.
"""

import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from benchmarks._load import free_port, serving, wait_ready
from benchmarks._source_sims import BINANCE_BENCH, YAHOO_BENCH
from src.domain.market_data import Interval, Symbol
from src.infrastructure.upstream.limits import InProcessUpstreamLimiter
from src.providers.binance import BinanceConfig, BinanceHistory, BinanceRest
from src.providers.yahoo import YahooConfig, YahooHistory, YahooHttp
from tests.fixtures.servers import RedisServer

BULK_BARS = 5_000


@contextmanager
def simulator_process(source: str) -> Iterator[str]:
    """The simulator's base URL while its process runs."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "benchmarks._source_sims", source, str(port)],
                               stdout=subprocess.DEVNULL)
    try:
        wait_ready(port, "/_sim/stats", process=process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=15)


def roomy(source: str) -> InProcessUpstreamLimiter:
    return InProcessUpstreamLimiter(source, 100_000, 100_000, max_wait_s=5)


async def _timed(fetch: Any, runs: int, expected: int) -> float:
    await fetch()  # unmeasured
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        bars = await fetch()
        times.append(time.perf_counter() - began)
        if len(bars) != expected:
            raise RuntimeError(f"expected {expected} bars, got {len(bars)}")
    return statistics.median(times)


async def _binance_100k(base_url: str) -> float:
    config = BinanceConfig(api_url=base_url + "/api")
    rest = BinanceRest(config, roomy("binance"))
    history = BinanceHistory(rest, config)
    try:
        return await _timed(lambda: history.fetch_bars(Symbol("BINANCE", "BTCUSDT"), Interval.M1, 100_000), 3,
                            100_000)
    finally:
        await rest.close()


async def _yahoo_5000(base_url: str) -> float:
    config = YahooConfig(base_url=base_url, cookie_url=base_url + "/")
    http = YahooHttp(config, roomy("yahoo"))
    history = YahooHistory(http, config)
    try:
        return await _timed(lambda: history.fetch_bars(Symbol("YAHOO", "AAPL"), Interval.D1, 5_000), 5, 5_000)
    finally:
        await http.close()


def _bulk(base_url: str) -> float:
    items = [{"source": "binance", "exchange": "BINANCE", "symbol": s.symbol, "interval": "1m",
              "n_bars": BULK_BARS} for s in BINANCE_BENCH]
    items += [{"source": "yahoo", "exchange": "YAHOO", "symbol": i.symbol, "interval": "1m", "n_bars": BULK_BARS}
              for i in YAHOO_BENCH]
    with httpx.Client(base_url=base_url, timeout=600) as client:
        began = time.perf_counter()
        response = client.post("/api/v1/market-data/sync/bulk", json={"items": items})
        elapsed = time.perf_counter() - began
    response.raise_for_status()
    results = response.json()
    bad = [r for r in results if not r["ok"] or r["result"]["bars_written"] != BULK_BARS]
    if len(results) != len(items) or bad:
        raise RuntimeError(f"bulk sync was not 50 first full syncs: {bad[:3]}")
    return elapsed


def run() -> dict[str, float]:
    with simulator_process("binance") as binance, simulator_process("yahoo") as yahoo, \
            tempfile.TemporaryDirectory(prefix="pq-bench-src-") as tmp:
        figures = {"binance_history_100k_1m_s": round(asyncio.run(_binance_100k(binance)), 3),
                   "yahoo_history_5000_s": round(asyncio.run(_yahoo_5000(yahoo)), 3)}
        redis = RedisServer(Path(tmp))
        settings = {
            "redis_url": redis.url, "scheduler_enabled": False,
            "tradingview_ws_url": "ws://127.0.0.1:9/socket.io/websocket",
            "binance_api_url": binance + "/api", "binance_stream_url": binance.replace("http", "ws") + "/",
            "yahoo_base_url": yahoo, "yahoo_cookie_url": yahoo + "/",
            "yahoo_requests_per_minute": 100_000, "rate_limit_capacity": 10**9, "rate_limit_refill_per_s": 10**9,
        }
        try:
            with serving(settings) as (app,):
                seconds = _bulk(app.base_url)
        finally:
            redis.stop()
    figures["bulk_sync_50_series_s"] = round(seconds, 3)
    figures["bulk_sync_bars_per_s"] = round(2 * len(BINANCE_BENCH) * BULK_BARS / seconds, 1)
    return figures


if __name__ == "__main__":
    print(run())
