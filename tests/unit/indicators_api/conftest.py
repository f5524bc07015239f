"""The service built through the root with fakes, a stored random 1m series spanning several UTC days,
and an HTTP client on the root's app (no sockets)."""

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import numpy as np
import pytest

from src.app.http import http_app
from src.domain.market_data import Interval, OHLCVBar, SeriesKey, Symbol
from tests.world import World

KEY = SeriesKey(Symbol("BINANCE", "BTCUSDT"), Interval.M1, "tradingview")
PATH = "/api/v1/indicators/BINANCE/BTCUSDT"
DAY0 = 1_735_689_600  # 2025-01-01 00:00 UTC
FIRST = DAY0 + 22 * 3600  # the series starts 2 hours before midnight: the first session is short


@dataclass(frozen=True)
class Series:
    """The stored bars as numpy columns (oldest first)."""

    time: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def bars(self) -> list[OHLCVBar]:
        columns = (self.time.tolist(), self.open.tolist(), self.high.tolist(), self.low.tolist(),
                   self.close.tolist(), self.volume.tolist())
        return [OHLCVBar(Interval.M1, *row) for row in zip(*columns, strict=True)]


def random_series(count: int, seed: int = 16, first: int = FIRST) -> Series:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.002, count)))
    open_ = np.concatenate(([100.0], close[:-1]))
    high = np.maximum(open_, close) * (1 + rng.uniform(0.0, 0.002, count))
    low = np.minimum(open_, close) * (1 - rng.uniform(0.0, 0.002, count))
    volume = np.round(rng.uniform(0.0, 500.0, count) * (rng.uniform(size=count) > 0.05), 3)
    return Series(first + 60 * np.arange(count, dtype=np.int64), open_, high, low, close, volume)


def column(rows: list[dict], name: str) -> np.ndarray:
    return np.array([np.nan if row[name] is None else row[name] for row in rows], dtype=np.float64)


def client_of(world: World) -> httpx.AsyncClient:
    # 127.0.0.1: a trusted host (TRUSTED_HOSTS names loopback only by default)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=http_app(world.root)), base_url="http://127.0.0.1")


@pytest.fixture
def world() -> World:
    return World(rate_limit_enabled=False)


@pytest.fixture
async def stored(world: World) -> Series:
    series = random_series(3_000)
    await world.bars.upsert(KEY, series.bars())
    return series


@pytest.fixture
async def api(world: World) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(world) as client:
        yield client
