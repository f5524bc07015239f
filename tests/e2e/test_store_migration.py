"""A store written by PocketQuant 0.1 (before sources existed) is migrated in place at start-up: every
series, sync status and tracked symbol becomes TradingView's, readable through the API exactly as stored,
in both chunk layouts; a second start finds nothing left to migrate."""

import gzip
import shutil
from pathlib import Path

import httpx
import pytest

from src.app.http import create_app
from src.common.settings import Settings
from src.domain.market_data import Interval

pytestmark = pytest.mark.e2e
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "stores" / "v0_1.sqlite.gz"


def written_by_v0_1(interval: Interval, start: int, count: int, base: float) -> list[dict]:
    """The bars `tests/fixtures/stores/make_v0_1_store.py.txt` wrote, by the same formula."""
    bars, t = [], interval.align(start)
    for i in range(count):
        p = base + (i % 97) * 0.25 + i * 0.01
        bars.append({"timestamp": t, "open": p, "high": p + 1.5, "low": p - 1.25, "close": p + 0.5,
                     "volume": 10.0 + i % 13})
        t = interval.next_open(t)
    return bars


@pytest.fixture
def legacy_data_dir(tmp_path: Path) -> Path:
    with gzip.open(FIXTURE) as packed, (tmp_path / "pocketquant.sqlite").open("wb") as out:
        shutil.copyfileobj(packed, out)
    return tmp_path


def _app(data_dir: Path, database: str, per_series: bool):
    return create_app(Settings(data_dir=str(data_dir), mongodb_database=database, scheduler_enabled=False,
                               mongodb_collection_per_series=per_series))


@pytest.mark.parametrize(("database", "per_series"), [("pocketquant", True), ("pocketquant_shared", False)])
async def test_a_v0_1_store_is_migrated_in_place_and_reads_back_unchanged(legacy_data_dir, serve_app,
                                                                          database, per_series):
    expected = {
        ("BINANCE", "BTCUSDT", "1m"): written_by_v0_1(Interval.M1, 1_700_000_000, 3000, 35000.0),
        ("BINANCE", "BTCUSDT", "1d"): written_by_v0_1(Interval.D1, 1_600_000_000, 400, 20000.0),
        ("NASDAQ", "AAPL", "1h"): written_by_v0_1(Interval.H1, 1_690_000_000, 700, 180.0),
    }
    for start in range(2):  # the second start finds a migrated store
        server = serve_app(_app(legacy_data_dir, database, per_series))
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as api:
            for (exchange, code, interval), bars in expected.items():
                response = await api.get(f"/api/v1/market-data/ohlcv/{exchange}/{code}",
                                         params={"interval": interval, "limit": 5000, "source": "tradingview"})
                body = response.json()
                assert response.status_code == 200 and body["source"] == "tradingview", (start, response.text)
                assert [{k: b[k] for k in bars[0]} for b in body["bars"]] == bars, (start, exchange, interval)
            statuses = (await api.get("/api/v1/market-data/sync-status", params={"source": "tradingview"})).json()
            assert sorted((s["exchange"], s["symbol"], s["interval"], s["status"]) for s in statuses) == sorted(
                (*key, "completed") for key in expected)
            assert all(s["coverage"]["bar_count"] == len(expected[(s["exchange"], s["symbol"], s["interval"])])
                       for s in statuses)
            symbols = (await api.get("/api/v1/market-data/symbols", params={"include_inactive": True})).json()
            assert sorted((s["source"], s["exchange"], s["symbol"], s["active"]) for s in symbols) == [
                ("tradingview", "BINANCE", "BTCUSDT", True), ("tradingview", "NASDAQ", "AAPL", False)]
            [letter] = (await api.get("/api/v1/webhooks/dead-letters")).json()
            assert letter["delivery_id"] == "d-1" and letter["error"] == "HTTP 500"
            other = await api.get("/api/v1/market-data/ohlcv/BINANCE/BTCUSDT",
                                  params={"interval": "1m", "source": "coinbase"})
            assert other.status_code == 422 and other.json()["field"] == "source"  # no such source registered
        server.stop()


# --- version 2 (one-day 1m chunks, chunk collections per series) to version 3 (columnar layout) -------------

FIXTURE_V2 = FIXTURE.with_name("v2.sqlite.gz")
V2_SERIES = {  # as tests/fixtures/stores/make_v2_store.py.txt wrote them: (first bar time, count, base price)
    ("BINANCE", "BTCUSDT", "1m"): (1_700_000_000, 5000, 35000.0),
    ("BINANCE", "BTCUSDT", "5m"): (1_700_000_000, 3000, 35100.0),
    ("BINANCE", "BTCUSDT", "30m"): (1_690_000_000, 1500, 30000.0),
    ("BINANCE", "BTCUSDT", "1d"): (1_600_000_000, 400, 20000.0),
    ("NASDAQ", "AAPL", "1h"): (1_690_000_000, 700, 180.0),
}


def written_by_v2(interval: Interval, start: int, count: int, base: float) -> list[dict]:
    bars = written_by_v0_1(interval, start, count, base)
    return [{**bar, "partial": i % 11 == 3} for i, bar in enumerate(bars)]


@pytest.fixture
def v2_data_dir(tmp_path: Path) -> Path:
    with gzip.open(FIXTURE_V2) as packed, (tmp_path / "pocketquant.sqlite").open("wb") as out:
        shutil.copyfileobj(packed, out)
    return tmp_path


@pytest.mark.parametrize(("database", "per_series"), [("pocketquant", True), ("pocketquant_shared", False)])
async def test_a_v2_store_is_migrated_to_the_columnar_layout_and_reads_back_unchanged(v2_data_dir, serve_app,
                                                                                     database, per_series):
    for start in range(2):  # the second start finds a migrated store
        server = serve_app(_app(v2_data_dir, database, per_series))
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as api:
            for (exchange, code, interval), (first, count, base) in V2_SERIES.items():
                bars = written_by_v2(Interval.parse(interval), first, count, base)
                response = await api.get(f"/api/v1/market-data/ohlcv/{exchange}/{code}",
                                         params={"interval": interval, "limit": 5000})
                assert response.status_code == 200, (start, response.text)
                assert [{k: b[k] for k in bars[0]} for b in response.json()["bars"]] == bars, (start, interval)
            statuses = (await api.get("/api/v1/market-data/sync-status")).json()
            assert {(s["exchange"], s["symbol"], s["interval"]): s["coverage"]["bar_count"] for s in statuses} == {
                key: count for key, (_, count, _) in V2_SERIES.items()}
        server.stop()
