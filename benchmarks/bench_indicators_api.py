"""Indicators and features served from the store (issue 16): the embedded store (mongoeco over SQLite, as
`make run` uses by default) holding 100,000 1m bars of one series.

- `indicators_default_100k_bars_ms`: every default indicator over the 100,000 stored bars, store read
  included: the slice's read (the bars, numpy conversion, the warm-up read before them, session ids) and the
  TA-Lib computation; median of 7 rounds. `features_v1_100k_bars_ms`: the same for feature set v1 (80
  features); median of 5.
- `indicators_default_100k_csv_ms`, `indicators_default_100k_json_ms`: the whole uncached response on top
  (the table rendered as CSV or as JSON rows); medians of 3. Not targets, shown for what a 100k-row export
  costs.
- `indicators_cached_ratio`: requests/s of a warm `GET /api/v1/indicators/...?indicators=rsi:14,macd:12:26:9
  &limit=500` over the trivial route's, with the load generator of `benchmarks/_load.py` at 32 connections,
  the app served as `make run` serves it with a throwaway Redis as its cache; rounds alternate the order,
  the median of the per-round ratios (and `indicators_cached_rps`, the median rate).
"""

import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from benchmarks._load import TRIVIAL_PATH, load, serving
from src.domain.features import FEATURES_V1
from src.domain.indicators import DEFAULT_INDICATORS, compute, warmup
from src.domain.market_data import Interval, OHLCVBar, SeriesKey, Symbol
from src.features.indicators.reading import SeriesReader, Window
from src.features.indicators.serialization import table_csv, table_json
from src.features.indicators.tables import indicator_table
from src.infrastructure.mongo.connection import MongoStore
from src.infrastructure.mongo.ohlcv_repository import MongoOHLCVRepository
from tests.fixtures.servers import RedisServer

BARS = 100_000
KEY = SeriesKey(Symbol("BINANCE", "BTCUSDT"), Interval.M1, "tradingview")
T0 = 1_735_689_600  # 2025-01-01 00:00 UTC
WINDOW = Window(limit=BARS)
CACHED_QUERY = "/api/v1/indicators/BINANCE/BTCUSDT?interval=1m&indicators=rsi:14,macd:12:26:9&limit=500"
ROUNDS = 5
DURATION_S = 2


def _bars() -> list[OHLCVBar]:
    rng = np.random.default_rng(16)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.001, BARS)))
    open_ = np.concatenate(([100.0], close[:-1]))
    high = np.maximum(open_, close) * (1 + rng.exponential(0.0005, BARS))
    low = np.minimum(open_, close) * (1 - rng.exponential(0.0005, BARS))
    volume = rng.lognormal(8.0, 1.0, BARS)
    return [OHLCVBar(Interval.M1, T0 + 60 * i, *map(float, row))
            for i, row in enumerate(zip(open_, high, low, close, volume, strict=True))]


async def _median_ms(action: Callable[[], Awaitable[object]], rounds: int) -> float:
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        await action()
        timings.append(time.perf_counter() - started)
    return round(statistics.median(timings) * 1e3, 1)


async def _store_figures(data_dir: Path) -> dict[str, float]:
    store = MongoStore(None, data_dir=data_dir)
    bars_repository = MongoOHLCVRepository(await store.start())
    try:
        await bars_repository.ensure_indexes()
        bars = _bars()
        for start in range(0, BARS, 10_000):
            await bars_repository.upsert(KEY, bars[start:start + 10_000])
        reader = SeriesReader(bars_repository)
        indicators_needed = warmup(DEFAULT_INDICATORS)

        async def indicators() -> object:
            return compute(DEFAULT_INDICATORS, (await reader.read(KEY, WINDOW, indicators_needed)).columns)

        async def features() -> object:
            history = await reader.read(KEY, WINDOW, FEATURES_V1.warmup)
            return FEATURES_V1.compute(history.columns, history.utc_offset)

        def response(render: Callable[[Any], bytes]) -> Callable[[], Awaitable[object]]:
            async def respond() -> object:
                history = await reader.read(KEY, WINDOW, indicators_needed)
                return render(indicator_table(history, DEFAULT_INDICATORS))
            return respond

        await indicators()  # warm up imports and the store's caches
        return {
            "indicators_default_100k_bars_ms": await _median_ms(indicators, 7),
            "features_v1_100k_bars_ms": await _median_ms(features, 5),
            "indicators_default_100k_csv_ms": await _median_ms(response(table_csv), 3),
            "indicators_default_100k_json_ms": await _median_ms(response(table_json), 3),
        }
    finally:
        await store.stop()


def _cached_figures(data_dir: Path, redis_url: str) -> dict[str, float]:
    settings = {"data_dir": str(data_dir), "redis_url": redis_url, "scheduler_enabled": False,
                "rate_limit_capacity": 10**9, "rate_limit_refill_per_s": 10**9}
    with serving(settings) as (app,), httpx.Client(base_url=app.base_url, timeout=60) as client:
        for _ in range(2):  # fills the cache, then a hit
            response = client.get(CACHED_QUERY)
            response.raise_for_status()
            if response.json()["count"] != 500:
                raise RuntimeError(f"expected 500 rows, got {response.json()['count']}")
        urls = {"trivial": app.base_url + TRIVIAL_PATH, "indicators": app.base_url + CACHED_QUERY}
        for url in urls.values():
            load(url, 1)  # warm up
        rps: dict[str, list[float]] = {"trivial": [], "indicators": []}
        ratios = []
        for round_ in range(ROUNDS):
            for kind in ("trivial", "indicators") if round_ % 2 == 0 else ("indicators", "trivial"):
                rps[kind].append(load(urls[kind], DURATION_S).rps)
            ratios.append(rps["indicators"][-1] / rps["trivial"][-1])
    return {
        "indicators_cached_rps": round(statistics.median(rps["indicators"]), 1),
        "indicators_cached_ratio": round(statistics.median(ratios), 3),
    }


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="pq-bench-ind-") as scratch:
        data_dir = Path(scratch) / "data"
        figures = asyncio.run(_store_figures(data_dir))
        redis = RedisServer(Path(scratch))
        try:
            figures |= _cached_figures(data_dir, redis.url)
        finally:
            redis.stop()
    return figures


if __name__ == "__main__":
    print(run())
