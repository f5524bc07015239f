"""Storage figures: the embedded store (mongoeco + SQLite over the wire), ArcticDB (LMDB, local) on the same
bars in the same run, and a Redis cache hit.

- `store_write_bars_per_s`: 50,000 1m bars written as `OHLCVBar`s in 5,000-bar batches, median of 3 fresh series.
- `store_write_50k_ratio_vs_arcticdb`: the same 50,000 bars as columns in 5,000-bar batches, our time over
  ArcticDB's `update(upsert=True)` (the idempotent write, like ours), medians of interleaved rounds.
- `store_rewrite_5000_ms`: an idempotent re-write of 5,000 stored bars that all changed.
- `store_read_5000_ms`, `store_docs_per_5000_bars`: the newest 5,000 bars, newest first.
- `store_load_1m_bars_per_s`: 1,000,000 1m bars in 5,000-bar batches into one series;
  `store_load_last_vs_first_100k` is the time of the last 100,000 bars over the first 100,000's (1.0: flat).
- `store_read_1m_range_ms`: the whole 1M-bar series as columns; `store_read_ratio_vs_arcticdb` is it over
  ArcticDB's read of the same bars (a DataFrame), medians of interleaved rounds; `arcticdb_*` are ArcticDB's.
- `cache_get_5000_bars_p99_ms`: a Redis GET of a cached 5,000-bar payload (needs `redis-server`).
"""

import asyncio
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from src.domain.market_data import BarColumns, Interval, OHLCVBar, SeriesKey, Symbol
from src.infrastructure.cache.redis_cache import RedisCache
from src.infrastructure.cache.redis_client import redis_client
from src.infrastructure.mongo.connection import MongoStore
from src.infrastructure.mongo.ohlcv_repository import MongoOHLCVRepository
from tests.fixtures.servers import free_port, wait_for_port

KEY = SeriesKey(Symbol("BINANCE", "BTCUSDT"), Interval.M1, "tradingview")
T0 = 1_577_836_800  # 2020-01-01 00:00 UTC
TOTAL, BATCH, READ, LOAD = 50_000, 5_000, 5_000, 1_000_000
ROUNDS = 5


def columns(first: int, count: int, key: SeriesKey = KEY, shift: float = 0.0) -> BarColumns:
    """Bars with prices in cents and volumes in tenths, as sources send them (decimal text)."""
    i = np.arange(first, first + count)
    base = np.round(30_000 + (i % 97) * 0.25 + (i % 1013) * 0.07 + shift, 2)
    return BarColumns.of(key, T0 + 60 * i, base, base + 1.5, base - 1.25, base + 0.5, 1.5 * (i % 13), i % 101 == 0)


def _bars() -> list[OHLCVBar]:
    return columns(0, TOTAL).to_bars()


async def _write_series(repo: MongoOHLCVRepository, key: SeriesKey, batches: list[Any]) -> float:
    started = time.perf_counter()
    for batch in batches:
        await repo.upsert(key, batch)
    return time.perf_counter() - started


async def _writes(repo: MongoOHLCVRepository) -> dict[str, float]:
    bars = _bars()
    seconds = [await _write_series(repo, SeriesKey(Symbol("BENCH", f"W{i}"), Interval.M1, "tradingview"),
                                   [bars[j:j + BATCH] for j in range(0, TOTAL, BATCH)]) for i in range(3)]
    started = time.perf_counter()
    await repo.upsert(SeriesKey(Symbol("BENCH", "W0"), Interval.M1, "tradingview"), columns(TOTAL - READ, READ,
                                                                                            shift=0.5))
    return {"store_write_bars_per_s": round(TOTAL / statistics.median(seconds)),
            "store_rewrite_5000_ms": round((time.perf_counter() - started) * 1000, 2)}


async def _load(repo: MongoOHLCVRepository) -> dict[str, float]:
    """1M bars into KEY, batch by batch, timing each."""
    per_batch = []
    for first in range(0, LOAD, BATCH):
        batch = columns(first, BATCH)
        started = time.perf_counter()
        await repo.upsert(KEY, batch)
        per_batch.append(time.perf_counter() - started)
    share = 100_000 // BATCH
    return {"store_load_1m_bars_per_s": round(LOAD / sum(per_batch)),
            "store_load_last_vs_first_100k": round(sum(per_batch[-share:]) / sum(per_batch[:share]), 3)}


async def _newest(repo: MongoOHLCVRepository) -> tuple[dict[str, float], bytes]:
    timings, docs = [], []
    for _ in range(15):
        before = repo.docs_fetched
        started = time.perf_counter()
        result = await repo.read(KEY, limit=READ, descending=True)
        timings.append(time.perf_counter() - started)
        docs.append(repo.docs_fetched - before)
        assert len(result) == READ
    payload = orjson.dumps({name: np.ascontiguousarray(getattr(result, name)) for name in ("time", "open", "high",
                            "low", "close", "volume")}, option=orjson.OPT_SERIALIZE_NUMPY)
    return {"store_read_5000_ms": round(statistics.median(timings[3:]) * 1000, 2),
            "store_docs_per_5000_bars": max(docs)}, payload


class Arctic:
    """ArcticDB on LMDB in a temporary directory: the same bars as a DataFrame indexed by time."""

    def __init__(self, directory: Path) -> None:
        import arcticdb

        self.library = arcticdb.Arctic(f"lmdb://{directory}").get_library("bench", create_if_missing=True)

    @staticmethod
    def frame(bars: BarColumns) -> Any:
        import pandas as pd

        values = {n: getattr(bars, n) for n in ("open", "high", "low", "close", "volume", "partial")}
        return pd.DataFrame(values, index=pd.to_datetime(bars.time, unit="s"))

    def write(self, symbol: str, frames: list[Any]) -> float:
        started = time.perf_counter()
        for frame in frames:
            self.library.update(symbol, frame, upsert=True)
        return time.perf_counter() - started

    def read(self, symbol: str) -> tuple[float, int]:
        started = time.perf_counter()
        frame = self.library.read(symbol).data
        return time.perf_counter() - started, len(frame)


async def _against_arcticdb(repo: MongoOHLCVRepository, directory: Path) -> dict[str, float]:
    arctic = Arctic(directory)
    arctic.write("load", [Arctic.frame(columns(f, 100_000)) for f in range(0, LOAD, 100_000)])
    batches = [columns(f, BATCH) for f in range(0, TOTAL, BATCH)]
    frames = [Arctic.frame(b) for b in batches]
    ours, theirs, reads, their_reads = [], [], [], []
    for round_ in range(ROUNDS):
        ours.append(await _write_series(repo, SeriesKey(Symbol("BENCH", f"C{round_}"), Interval.M1, "tradingview"),
                                        batches))
        theirs.append(arctic.write(f"w{round_}", frames))
        started = time.perf_counter()
        assert len(await repo.read(KEY)) == LOAD
        reads.append(time.perf_counter() - started)
        seconds, count = arctic.read("load")
        assert count == LOAD
        their_reads.append(seconds)
    return {
        "store_read_1m_range_ms": round(statistics.median(reads) * 1000, 1),
        "arcticdb_read_1m_ms": round(statistics.median(their_reads) * 1000, 1),
        "store_read_ratio_vs_arcticdb": round(statistics.median(reads) / statistics.median(their_reads), 1),
        "arcticdb_write_50k_ms": round(statistics.median(theirs) * 1000, 1),
        "store_write_50k_ms": round(statistics.median(ours) * 1000, 1),
        "store_write_50k_ratio_vs_arcticdb": round(statistics.median(ours) / statistics.median(theirs), 1),
    }


async def _store_figures(directory: Path) -> tuple[dict[str, float], bytes]:
    store = MongoStore(None, data_dir=directory / "mongo")
    repo = MongoOHLCVRepository(await store.start())
    await repo.ensure_indexes()
    try:
        figures = await _writes(repo)
        figures.update(await _load(repo))
        newest, payload = await _newest(repo)
        figures.update(newest)
        figures.update(await _against_arcticdb(repo, directory / "arctic"))
    finally:
        await store.stop()
    return figures, payload


async def _cache_figure(payload: bytes, directory: Path) -> dict[str, float]:
    binary = shutil.which("redis-server")
    if binary is None:
        return {}
    port = free_port()
    process = subprocess.Popen(  # noqa: ASYNC220 - a one-off server start, before anything is timed
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", str(directory)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        client = redis_client(f"redis://127.0.0.1:{port}/0", timeout_s=1.0)
        cache = RedisCache(client)
        await cache.set("ohlcv:BTCUSDT:BINANCE:1m:limit=5000", payload, 300)
        timings = []
        for _ in range(500):
            started = time.perf_counter()
            value = await cache.get("ohlcv:BTCUSDT:BINANCE:1m:limit=5000")
            timings.append(time.perf_counter() - started)
        assert value == payload
        await cache.aclose()
        await client.aclose()
    finally:
        process.terminate()
        process.wait(timeout=10)
    timings.sort()
    return {"cache_get_5000_bars_p99_ms": round(timings[int(len(timings) * 0.99) - 1] * 1000, 3)}


async def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-storage-") as tmp:
        figures, payload = await _store_figures(Path(tmp))
        (Path(tmp) / "redis").mkdir()
        figures.update(await _cache_figure(payload, Path(tmp) / "redis"))
        figures["cache_payload_bytes"] = len(payload)
    return figures


if __name__ == "__main__":
    print(asyncio.run(run()))
