"""`GET /ohlcv` of a million bars over HTTP, against the app as `make run` serves it (its own uvicorn process
pinned to one CPU, the embedded store, a throwaway redis-server as its cache), the client on the other CPUs.

- `api_json_1m_ms`, `api_csv_1m_ms`, `api_arrow_1m_ms`, `api_parquet_1m_ms`: one page of all 1,000,000 1m
  bars (`start` + `limit=1000000`), from the request to the last byte received; medians of rounds that
  alternate the formats. Pages this large are streamed and never cached, so every one is cold.
- `read_stall_p99_ms`: the p99 latency of a small cached query (100 bars) asked one after another while two
  clients download the million bars as JSON rows and CSV without pause; `read_idle_p99_ms` is the same
  query with nothing else running, measured first.
"""

import asyncio
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

from benchmarks._load import cpus, pin, start_app
from src.domain.market_data import BarColumns, Interval, SeriesKey, Symbol
from src.infrastructure.mongo.connection import MongoStore
from src.infrastructure.mongo.ohlcv_repository import MongoOHLCVRepository
from tests.fixtures.servers import RedisServer

KEY = SeriesKey(Symbol("BINANCE", "BTCUSDT"), Interval.M1, "tradingview")
OHLCV = "/api/v1/market-data/ohlcv/BINANCE/BTCUSDT"
T0 = 1_577_836_800  # 2020-01-01
BARS = 1_000_000
ROUNDS = 3
FORMATS = ("json", "csv", "arrow", "parquet")
STALL_S = 8.0


async def _store(directory: Path) -> None:
    store = MongoStore(None, data_dir=directory)
    repo = MongoOHLCVRepository(await store.start())
    rng = np.random.default_rng(11)
    for first in range(0, BARS, 50_000):
        close = np.round(30_000 + rng.standard_normal(50_000).cumsum(), 2)
        volume = np.round(rng.exponential(4, 50_000), 5)
        await repo.upsert(KEY, BarColumns.of(KEY, T0 + 60 * np.arange(first, first + 50_000, dtype=np.int64),
                                             close, close + 0.5, close - 0.25, close, volume,
                                             rng.random(50_000) < 0.01))
    await store.stop()


def _download(client: httpx.Client, form: str) -> tuple[float, int]:
    started, size = time.perf_counter(), 0
    with client.stream("GET", OHLCV, params={"interval": "1m", "start": T0, "limit": BARS, "format": form}) as r:
        r.raise_for_status()
        for chunk in r.iter_raw():
            size += len(chunk)
    return time.perf_counter() - started, size


def _small_latencies(client: httpx.Client, until: float) -> list[float]:
    latencies = []
    while time.perf_counter() < until:
        started = time.perf_counter()
        client.get(OHLCV, params={"interval": "1m", "limit": 100}).raise_for_status()
        latencies.append(time.perf_counter() - started)
        time.sleep(0.005)
    return latencies


def _p99_ms(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1)


def _stall(base_url: str) -> dict[str, float]:
    stop = threading.Event()

    def keep_downloading(form: str) -> None:
        with httpx.Client(base_url=base_url, timeout=120) as client:
            while not stop.is_set():
                _download(client, form)

    with httpx.Client(base_url=base_url, timeout=60) as client:
        idle = _small_latencies(client, time.perf_counter() + 3)
        loaders = [threading.Thread(target=keep_downloading, args=(form,)) for form in ("json", "csv")]
        for loader in loaders:
            loader.start()
        time.sleep(0.5)  # both downloads under way
        busy = _small_latencies(client, time.perf_counter() + STALL_S)
        stop.set()
        for loader in loaders:
            loader.join()
    return {"read_idle_p99_ms": _p99_ms(idle), "read_stall_p99_ms": _p99_ms(busy)}


def _figures(base_url: str) -> dict[str, float]:
    seconds: dict[str, list[float]] = {form: [] for form in FORMATS}
    sizes: dict[str, int] = {}
    with httpx.Client(base_url=base_url, timeout=120) as client:
        client.get(OHLCV, params={"interval": "1m", "limit": 100}).raise_for_status()  # warm up
        for round_ in range(ROUNDS):
            for form in FORMATS if round_ % 2 == 0 else FORMATS[::-1]:
                elapsed, sizes[form] = _download(client, form)
                seconds[form].append(elapsed)
    figures: dict[str, float] = {f"api_{f}_1m_ms": round(statistics.median(s) * 1000, 1) for f, s in seconds.items()}
    figures.update({f"api_{f}_1m_mb": round(size / 2**20, 1) for f, size in sizes.items()})
    figures.update(_stall(base_url))
    return figures


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="pq-bench-ohlcv-") as tmp:
        data = Path(tmp) / "data"
        asyncio.run(_store(data))
        redis = RedisServer(Path(tmp))
        pin(os.getpid(), cpus()[1])  # the client on the load-generator CPUs, the server on its own
        app = start_app({"data_dir": str(data), "redis_url": redis.url, "scheduler_enabled": False,
                         "rate_limit_capacity": 10**9, "rate_limit_refill_per_s": 10**9})
        try:
            return _figures(app.base_url)
        finally:
            app.stop()
            redis.stop()


if __name__ == "__main__":
    print(run())
