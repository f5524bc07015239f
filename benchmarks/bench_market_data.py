"""Market-data figures end to end over HTTP (issue 5), against the app as `make run` serves it.

The app runs in its own uvicorn process (`benchmarks/_serve_app.py`, the harness of `benchmarks/_load.py`)
with the full edge middleware stack, the default embedded store (mongoeco over SQLite in the app process,
under a temporary directory), a throwaway redis-server as its cache, and the TradingView simulator
(in a thread of this process, on its own event loop) as its upstream. Only the rate limit is raised so that
the load is never throttled; the limiter still runs on every request.

- `sync_5000_bars_s`: POST /api/v1/market-data/sync of 5,000 1m bars, the median of `SYNCS` syncs, each
  the first sync of a series never stored (one simulator symbol per sync). One unmeasured sync of
  BINANCE:BTCUSDT comes first: it opens the upstream connection, and its bars serve the queries below.
- `sync_backfill_20000_s`: one POST /sync with `n_bars=20000` of a 1m series that holds its newest 1,000
  bars with 3 holes of 500 bars among them (four stretches of 250, stored beforehand by syncs while the
  simulator's history was cut short); it completes the window backwards and fills the holes. The median of
  `BACKFILLS` series.
The simulator's histories are generated before anything is measured (its cost is not the service's).
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
from src.domain.market_data import Interval
from tests.fixtures.servers import RedisServer

SYNC_BARS = 5_000
SYNCS = 5
BACKFILL_BARS = 20_000
BACKFILLS = 3
STRETCH, HOLE = 250, 500  # the stored series: 250 bars, a hole of 500, ... four stretches, three holes
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
BACKFILL_SYMBOLS = tuple(
    SymbolSpec(f"BENCH:FILL{i}USDT", f"Backfill symbol {i}", currency="USDT", price=50.0 * (i + 1))
    for i in range(BACKFILLS)
)


class SimulatorThread:
    """The TradingView simulator on its own event loop in a daemon thread."""

    def __init__(self) -> None:
        symbols = (*DEFAULT_SYMBOLS, *SYNC_SYMBOLS, *BACKFILL_SYMBOLS)
        self.sim = TradingViewSimulator(symbols=symbols, history_bars=BACKFILL_BARS + 1_000)
        for spec in symbols:
            self.sim.market.history(spec.ticker, Interval.M1)
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


def _backfill(client: httpx.Client, sim: TradingViewSimulator, spec: SymbolSpec) -> float:
    """Store the holey newest 1,000 bars, then time the sync that completes 20,000."""
    exchange, code = spec.ticker.split(":")
    rows = sim.market.history(spec.ticker, Interval.M1)
    full = list(rows)
    for end in range(3 * (STRETCH + HOLE), -1, -(STRETCH + HOLE)):  # the oldest stretch first
        rows[:] = full[:len(full) - end]  # the simulator's history ends with this stretch for a moment
        _post_sync(client, exchange, code, STRETCH)
    rows[:] = full
    started = time.perf_counter()
    result = _post_sync(client, exchange, code, BACKFILL_BARS)
    elapsed = time.perf_counter() - started
    stored = client.get(f"/api/v1/market-data/ohlcv/{exchange}/{code}",
                        params={"interval": "1m", "limit": BACKFILL_BARS + 10}).json()["count"]
    if stored < BACKFILL_BARS or result["status"] != "completed":
        raise RuntimeError(f"backfill of {spec.ticker} left {stored} bars: {result}")
    return elapsed


def _post_sync(client: httpx.Client, exchange: str, symbol: str, n_bars: int) -> dict[str, Any]:
    body = {"exchange": exchange, "symbol": symbol, "interval": "1m", "n_bars": n_bars}
    response = client.post("/api/v1/market-data/sync", json=body)
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def _get_bars(client: httpx.Client, params: dict[str, Any], count: int) -> float:
    started = time.perf_counter()
    response = client.get(OHLCV, params={"interval": "1m", **params})
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    if response.json()["count"] != count:
        raise RuntimeError(f"expected {count} bars from {params}, got {response.json()['count']}")
    return elapsed


def _figures(settings: dict[str, Any], sim: TradingViewSimulator) -> dict[str, float]:
    with serving(settings) as (app,), httpx.Client(base_url=app.base_url, timeout=60) as client:
        _sync(client, "BINANCE", "BTCUSDT")  # unmeasured: upstream connection; data for the queries
        sync_s = [_sync(client, *spec.ticker.split(":")) for spec in SYNC_SYMBOLS]
        backfill_s = [_backfill(client, sim, spec) for spec in BACKFILL_SYMBOLS]

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
        "sync_backfill_20000_s": round(statistics.median(backfill_s), 3),
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
            figures: dict[str, float | str] = dict(_figures(settings, sim))
        finally:
            try:
                simulator.stop()
            finally:
                redis.stop()
    figures["market_data_load_generator"] = generator()
    return figures


if __name__ == "__main__":
    print(run())
