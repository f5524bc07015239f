"""Session-true bars through HTTP against the TradingView simulator (issue 12): a NASDAQ-like symbol synced at
5m, 45m, 1h, 4h, 1d, 1w and 1M holds exactly the source's bar times, with gaps only where the source lacks a
session bar; an overnight futures symbol's daily, weekly and monthly bars without collisions; the symbols API
shows the sessions; and grid-stamped bars written by PocketQuant 0.1 are detected and repaired.

The simulator stamps bars with its own exchange hours (`simulators/tradingview/sessions.py`, zoneinfo day by
day); the service with its `SessionCalendar` built from the symbol's metadata: the tests compare the two."""

import asyncio
import gzip
import shutil
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from src.app.http import create_app
from src.common.settings import Settings
from src.domain.market_data import Interval

pytestmark = pytest.mark.e2e
AAPL = {"exchange": "NASDAQ", "symbol": "AAPL"}
ES = {"exchange": "CME_MINI", "symbol": "ES1!"}
LEGACY_STORE = Path(__file__).resolve().parents[1] / "fixtures" / "stores" / "v0_1.sqlite.gz"
COUNTS = {Interval.M5: 600, Interval.M45: 300, Interval.H1: 300, Interval.H4: 200, Interval.D1: 300,
          Interval.W1: 150, Interval.MN1: 80}


async def sync(api: httpx.AsyncClient, symbol: dict, interval: Interval, n_bars: int, **options) -> dict:
    response = await api.post("/api/v1/market-data/sync",
                              json={**symbol, "interval": interval.code, "n_bars": n_bars, **options})
    assert response.status_code == 200, response.text
    return response.json()


async def settled(api: httpx.AsyncClient, symbol: dict, interval: Interval) -> None:
    path = f"/api/v1/market-data/sync-status/{symbol['exchange']}/{symbol['symbol']}/{interval.code}"
    for _ in range(600):
        status = (await api.get(path)).json().get("status")
        if status in ("completed", "failed"):
            assert status == "completed"
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{interval.code} still syncing")


async def stored(api: httpx.AsyncClient, symbol: dict, interval: Interval) -> list[int]:
    path = f"/api/v1/market-data/ohlcv/{symbol['exchange']}/{symbol['symbol']}"
    body = (await api.get(path, params={"interval": interval.code, "limit": 100_000})).json()
    return [bar["timestamp"] for bar in body["bars"]]


async def coverage(api: httpx.AsyncClient, symbol: dict, interval: Interval) -> dict:
    path = f"/api/v1/market-data/sync-status/{symbol['exchange']}/{symbol['symbol']}/{interval.code}"
    return (await api.get(path)).json()["coverage"]


def source_times(sim, ticker: str, interval: Interval) -> list[int]:
    return [int(row[0]) for row in sim.market.history(ticker, interval)]


def iso(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("interval", list(COUNTS), ids=lambda i: i.code)
async def test_a_nasdaq_symbol_keeps_the_sources_bar_times_and_gaps_are_only_missing_session_bars(
        api, tv_simulator, interval):
    n_bars = COUNTS[interval]
    times = source_times(tv_simulator, "NASDAQ:AAPL", interval)
    hole = times[-n_bars // 2: -n_bars // 2 + 3]  # three consecutive session bars the source lacks
    tv_simulator.market.remove_bars("NASDAQ:AAPL", interval, hole[0], hole[-1])
    kept = [t for t in times if t not in hole]
    result = await sync(api, AAPL, interval, n_bars)
    assert result["bars_rejected"] == 0
    assert await stored(api, AAPL, interval) == kept[-n_bars:]  # the source's times, exactly
    found = await coverage(api, AAPL, interval)
    assert found["gaps"] == [[iso(hole[0]), iso(hole[-1])]] and found["missing_bars"] == 3
    assert found["misplaced_bars"] == 0 and found["bar_count"] == n_bars


async def test_nights_weekends_and_holidays_are_no_gaps(api, tv_simulator):
    await sync(api, AAPL, Interval.M15, 2_000)  # about 77 sessions: weekends, holidays, a half day maybe
    found = await coverage(api, AAPL, Interval.M15)
    assert (found["missing_bars"], found["gaps"], found["bar_count"]) == (0, [], 2_000)


@pytest.mark.parametrize("interval", [Interval.D1, Interval.W1, Interval.MN1], ids=lambda i: i.code)
async def test_an_overnight_futures_symbols_daily_weekly_and_monthly_bars_never_collide(api, tv_simulator, interval):
    n_bars = {Interval.D1: 500, Interval.W1: 200, Interval.MN1: 120}[interval]
    await sync(api, ES, interval, n_bars)
    times = await stored(api, ES, interval)
    assert times == source_times(tv_simulator, "CME_MINI:ES1!", interval)[-n_bars:]
    assert len(set(times)) == n_bars  # one bar per trading period: none lost to another's key
    evenings = [t for t in times if datetime.fromtimestamp(t, UTC).hour >= 22]
    assert evenings  # opened the evening before (UTC): a grid floor would have put them on the previous day
    if interval is Interval.MN1:  # some months open on the last day of the month before
        assert any(datetime.fromtimestamp(t, UTC).day >= 28 for t in times)
    found = await coverage(api, ES, interval)
    assert found["missing_bars"] == 0 and found["misplaced_bars"] == 0


async def test_the_symbols_api_shows_the_sessions_and_takes_extended_hours(api, tv_simulator):
    tracked = await api.post("/api/v1/market-data/symbols", json={**AAPL, "intervals": ["1h"]})
    assert tracked.status_code == 201, tracked.text
    sessions = tracked.json()["sessions"]
    assert (sessions["timezone"], sessions["session"], sessions["extended_session"]) == (
        "America/New_York", "0930-1600", "0400-2000")
    assert sessions["follows"] == "regular" and "0930-1300:" in sessions["session_correction"]
    await settled(api, AAPL, Interval.H1)  # tracking started the first sync, on the regular session
    regular = await stored(api, AAPL, Interval.H1)
    chosen = await api.post("/api/v1/market-data/symbols", json={**AAPL, "intervals": ["1h"], "extended_hours": True})
    assert chosen.json()["sessions"]["follows"] == "extended"
    [repair] = chosen.json()["first_syncs"]  # the stored span is fetched again on the extended session
    assert repair["interval"] == "1h"
    await settled(api, AAPL, Interval.H1)
    extended = [int(row[0]) for row in tv_simulator.market.history("NASDAQ:AAPL", Interval.H1, extended=True)]
    now_stored = await stored(api, AAPL, Interval.H1)
    assert now_stored[0] <= regular[0]  # the whole stored span, and only the source's extended-session bars
    assert now_stored == extended[-len(now_stored):]
    assert (await coverage(api, AAPL, Interval.H1))["misplaced_bars"] == 0
    listed = (await api.get("/api/v1/market-data/symbols")).json()
    assert listed[0]["sessions"]["extended_hours"] is True
    futures = (await api.get("/api/v1/market-data/symbols/CME_MINI/ES1!/sessions")).json()
    assert (futures["session"], futures["extended_session"]) == ("1800-1700", None)


@pytest.fixture
def legacy_data_dir(tmp_path: Path) -> Path:
    with gzip.open(LEGACY_STORE) as packed, (tmp_path / "pocketquant.sqlite").open("wb") as out:
        shutil.copyfileobj(packed, out)
    return tmp_path


async def test_grid_stamped_bars_of_an_older_version_are_detected_and_repaired(legacy_data_dir, serve_app,
                                                                             tv_simulator):
    """PocketQuant 0.1 stored NASDAQ:AAPL's 1h bars on the UTC grid (700 of them from 2023-07-22): once the
    symbol's sessions are known they are counted as misplaced, and a repair over their span deletes them and
    leaves exactly the source's bars."""
    settings = Settings(data_dir=str(legacy_data_dir), scheduler_enabled=False, tradingview_ws_url=tv_simulator.ws_url,
                        tradingview_search_url=tv_simulator.search_url, tradingview_requests_per_s=1_000.0,
                        rate_limit_capacity=10_000)
    server = serve_app(create_app(settings))
    async with httpx.AsyncClient(base_url=server.url, timeout=120) as api:
        legacy = await stored(api, AAPL, Interval.H1)
        assert len(legacy) == 700 and all(t % 3_600 == 0 for t in legacy)
        assert (await api.get("/api/v1/market-data/symbols/NASDAQ/AAPL/sessions")).status_code == 200
        assert (await coverage(api, AAPL, Interval.H1))["misplaced_bars"] == 700  # detected
        source = source_times(tv_simulator, "NASDAQ:AAPL", Interval.H1)
        n_bars = sum(t >= legacy[0] - 3 * 86_400 for t in source)
        result = await sync(api, AAPL, Interval.H1, n_bars, refresh=True)
        assert result["bars_removed"] == 700
        assert await stored(api, AAPL, Interval.H1) == source[-n_bars:]
        found = await coverage(api, AAPL, Interval.H1)
        assert (found["misplaced_bars"], found["missing_bars"]) == (0, 0)
