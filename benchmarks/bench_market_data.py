"""Market-data figures end to end over HTTP (issue 5), against the app as `make run` serves it.

The app runs in its own uvicorn process (`benchmarks/_serve_app.py`, the harness of `benchmarks/_load.py`)
with the full edge middleware stack, the default embedded store (mongoeco over SQLite in the app process,
under a temporary directory), a throwaway redis-server as its cache, and the TradingView simulator
(in a thread of this process, on its own event loop) as its upstream. Only the rate limit is raised so that
the load is never throttled; the limiter still runs on every request.

- `sync_5000_bars_s`: POST /api/v1/market-data/sync of 5,000 1m bars, the median of `SYNCS` syncs, each
  the first sync of a series never stored (one simulator symbol per sync). One unmeasured sync of
  BINANCE:BTCUSDT comes first: it opens the upstream connection, and its bars serve the queries below.
- `ohlcv_uncached_5000_ms`: GET ohlcv of 5,000 bars from the store (a distinct `end` each time, so every
  request misses the cache), median.
- `trivial_rps`, `ohlcv_cached_rps`, `ohlcv_cached_p99_ms`: `wrk` at 32 connections on a constant route
  (`/bench/ping`, mounted by the bench on the app it builds) and on a warm 500-bar ohlcv query, rounds
  alternating trivial/ohlcv and ohlcv/trivial; `ohlcv_cached_ratio` is the median of the per-round ratios,
  the other figures medians. The server is pinned to one CPU and the load generator to the others.
"""

import asyncio
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks._load import TRIVIAL_PATH, generator, load, serving
from simulators.tradingview.market import DEFAULT_SYMBOLS, SymbolSpec
from simulators.tradingview.server import TradingViewSimulator
from tests.fixtures.servers import RedisServer

SYNC_BARS = 5_000
SYNCS = 5
UNCACHED_READS = 5
ROUNDS = 5
DURATION_S = 2  # whole seconds: wrk takes no fractions
CACHED_LIMIT = 500
OHLCV = "/api/v1/market-data/ohlcv/BINANCE/BTCUSDT"
# Fresh series for the measured syncs: 24x7 spot symbols the simulator serves besides its defaults.
SYNC_SYMBOLS = tuple(
    SymbolSpec(f"BENCH:SYNC{i}USDT", f"Bench symbol {i}", currency="USDT", price=100.0 * (i + 1))
    for i in range(SYNCS)
)


class SimulatorThread:
    """The TradingView simulator on its own event loop in a daemon thread."""

    def __init__(self) -> None:
        self.sim = TradingViewSimulator(symbols=(*DEFAULT_SYMBOLS, *SYNC_SYMBOLS))
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tv-simulator", daemon=True)

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.sim.start("127.0.0.1", 0), self._loop).result(15)

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        try:
            asyncio.run_coroutine_threadsafe(self.sim.stop(), self._loop).result(15)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=15)
            self._loop.close()


def _sync(client: httpx.Client, exchange: str, symbol: str) -> float:
    body = {"exchange": exchange, "symbol": symbol, "interval": "1m", "n_bars": SYNC_BARS}
    started = time.perf_counter()
    response = client.post("/api/v1/market-data/sync", json=body)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    result = response.json()
    if (result["status"], result["bars_written"]) != ("completed", SYNC_BARS):
        raise RuntimeError(f"sync of {exchange}:{symbol} was not a first full sync: {result}")
    return elapsed


def _get_bars(client: httpx.Client, params: dict[str, Any], count: int) -> float:
    started = time.perf_counter()
    response = client.get(OHLCV, params={"interval": "1m", **params})
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    if response.json()["count"] != count:
        raise RuntimeError(f"expected {count} bars from {params}, got {response.json()['count']}")
    return elapsed


def _figures(settings: dict[str, Any]) -> dict[str, float]:
    with serving(settings) as (app,), httpx.Client(base_url=app.base_url, timeout=60) as client:
        _sync(client, "BINANCE", "BTCUSDT")  # unmeasured: upstream connection; data for the queries
        sync_s = [_sync(client, *spec.ticker.split(":")) for spec in SYNC_SYMBOLS]

        far_future = int(time.time()) + 10 * 86_400
        uncached_s = [_get_bars(client, {"limit": SYNC_BARS, "end": far_future + i}, SYNC_BARS)
                      for i in range(UNCACHED_READS)]

        _get_bars(client, {"limit": CACHED_LIMIT}, CACHED_LIMIT)  # fills the cache
        _get_bars(client, {"limit": CACHED_LIMIT}, CACHED_LIMIT)
        urls = {"trivial": app.base_url + TRIVIAL_PATH,
                "ohlcv": f"{app.base_url}{OHLCV}?interval=1m&limit={CACHED_LIMIT}"}
        for url in urls.values():
            load(url, 1)  # warm up
        rps: dict[str, list[float]] = {"trivial": [], "ohlcv": []}
        p99: list[float] = []
        ratios: list[float] = []
        for round_ in range(ROUNDS):
            for kind in ("trivial", "ohlcv") if round_ % 2 == 0 else ("ohlcv", "trivial"):
                result = load(urls[kind], DURATION_S, latency=kind == "ohlcv")
                rps[kind].append(result.rps)
                if result.p99_ms is not None:
                    p99.append(result.p99_ms)
            ratios.append(rps["ohlcv"][-1] / rps["trivial"][-1])
    return {
        "sync_5000_bars_s": round(statistics.median(sync_s), 3),
        "ohlcv_uncached_5000_ms": round(statistics.median(uncached_s) * 1000, 1),
        "trivial_rps": round(statistics.median(rps["trivial"]), 1),
        "ohlcv_cached_rps": round(statistics.median(rps["ohlcv"]), 1),
        "ohlcv_cached_ratio": round(statistics.median(ratios), 3),
        "ohlcv_cached_p99_ms": round(statistics.median(p99), 2),
    }


def run() -> dict[str, float | str]:
    with tempfile.TemporaryDirectory(prefix="pq-bench-md-") as tmp:
        redis = RedisServer(Path(tmp))
        simulator = SimulatorThread()
        try:
            simulator.start()
            sim = simulator.sim
            settings = {
                "data_dir": str(Path(tmp) / "data"),  # MONGODB_URL unset: the embedded store, as by default
                "redis_url": redis.url,
                "tradingview_ws_url": sim.ws_url,
                "tradingview_search_url": sim.search_url,
                "tradingview_signin_url": sim.signin_url,
                "rate_limit_capacity": 10**9,
                "rate_limit_refill_per_s": 10**9,
            }
            figures: dict[str, float | str] = dict(_figures(settings))
        finally:
            try:
                simulator.stop()
            finally:
                redis.stop()
    figures["market_data_load_generator"] = generator()
    return figures


if __name__ == "__main__":
    print(run())
