"""Storage figures: the embedded store (mongoeco + SQLite over the wire) and a Redis cache hit."""

import asyncio
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import orjson

from src.domain.market_data import Interval, OHLCVBar, SeriesKey, Symbol
from src.infrastructure.cache.redis_cache import RedisCache
from src.infrastructure.cache.redis_client import redis_client
from src.infrastructure.mongo.connection import MongoStore
from src.infrastructure.mongo.ohlcv_repository import MongoOHLCVRepository
from tests.fixtures.servers import free_port, wait_for_port

KEY = SeriesKey(Symbol("BINANCE", "BTCUSDT"), Interval.M1, "tradingview")
T0 = 1_704_067_200  # 2024-01-01 00:00 UTC
TOTAL, BATCH, READ = 50_000, 5_000, 5_000


def _bars() -> list[OHLCVBar]:
    return [
        OHLCVBar(Interval.M1, T0 + 60 * i, 100 + i % 7, 108 + i % 7, 99 + i % 7, 101 + i % 7, 1.5 * (i % 13))
        for i in range(TOTAL)
    ]


async def _store_figures(directory: Path) -> tuple[dict[str, float], bytes]:
    store = MongoStore(None, data_dir=directory)
    repo = MongoOHLCVRepository(await store.start())
    await repo.ensure_indexes()
    bars = _bars()
    try:
        # The median of three fresh series (the last one is the one read below): these machines are noisy.
        write_seconds = []
        for attempt in range(3):
            series = KEY if attempt == 2 else SeriesKey(Symbol("BENCH", f"W{attempt}"), Interval.M1, "tradingview")
            started = time.perf_counter()
            for i in range(0, TOTAL, BATCH):
                await repo.upsert(series, bars[i : i + BATCH])
            write_seconds.append(time.perf_counter() - started)

        timings, docs = [], []
        for _ in range(15):
            before = repo.docs_fetched
            started = time.perf_counter()
            result = await repo.read(KEY, limit=READ, descending=True)
            timings.append(time.perf_counter() - started)
            docs.append(repo.docs_fetched - before)
            assert len(result) == READ
        payload = orjson.dumps(
            {"t": result.time, "o": result.open, "h": result.high, "l": result.low, "c": result.close,
             "v": result.volume}
        )
    finally:
        await store.stop()
    return {
        "store_write_bars_per_s": round(TOTAL / statistics.median(write_seconds)),
        "store_read_5000_ms": round(statistics.median(timings[3:]) * 1000, 2),
        "store_docs_per_5000_bars": max(docs),
    }, payload


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
        figures, payload = await _store_figures(Path(tmp) / "mongo")
        (Path(tmp) / "redis").mkdir()
        figures.update(await _cache_figure(payload, Path(tmp) / "redis"))
        figures["cache_payload_bytes"] = len(payload)
    return figures


if __name__ == "__main__":
    print(asyncio.run(run()))
