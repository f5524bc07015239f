"""Issue 11 through HTTP against the simulator: a sync makes the series hold the newest `n_bars` bars the
source has, whatever the series held before — fewer bars, only live bars, holes — and `refresh` re-fetches."""

import asyncio
import time

import pytest

from src.domain.market_data import Interval

pytestmark = pytest.mark.e2e
BTC = {"exchange": "BINANCE", "symbol": "BTCUSDT"}
TICKER = "BINANCE:BTCUSDT"
OHLCV = "/api/v1/market-data/ohlcv/BINANCE/BTCUSDT"
T0 = (int(time.time()) // 86_400 + 2) * 86_400  # live ticks two days ahead: never inside the history


async def sync(api, n_bars, interval="1m", **options):
    response = await api.post("/api/v1/market-data/sync", json={**BTC, "interval": interval, "n_bars": n_bars,
                                                                 **options})
    assert response.status_code == 200, response.text
    return response.json()


async def stored(api, interval="1m", **params):
    response = await api.get(OHLCV, params={"interval": interval, "limit": 100_000, **params})
    if response.status_code == 404:  # nothing stored for the series yet
        return []
    return response.json()["bars"]


def requests_since(sim, mark):
    return [(m, p) for m, p in sim.received[mark:] if m in ("create_series", "request_more_data")]


async def test_a_stored_series_is_extended_backwards(api, tv_simulator):
    rows = tv_simulator.market.history(TICKER, Interval.M1)
    await sync(api, 100)
    body = await sync(api, 3_000)
    assert [b["timestamp"] for b in await stored(api)] == [int(r[0]) for r in rows[-3_000:]]
    assert body["bars_fetched"] >= 2_900


async def test_a_live_only_series_then_a_sync_holds_the_history(api, tv_simulator):
    assert (await api.post("/api/v1/quotes/subscribe", json={"symbols": [TICKER], "intervals": ["5m"]})).is_success
    await tv_simulator.push_tick(TICKER, 100.0, 1.0, when=T0 + 1)
    await tv_simulator.push_tick(TICKER, 101.0, 2.0, when=T0 + 301)  # closes the T0 5m bar

    async def live_bar():
        return await stored(api, "5m")

    for _ in range(100):
        if T0 in {b["timestamp"] for b in await live_bar()}:
            break
        await asyncio.sleep(0.05)
    assert len(await live_bar()) <= 2  # the live bars only (the bar seeded at subscribe, and T0's)
    await sync(api, 500, interval="5m")
    rows = tv_simulator.market.history(TICKER, Interval.M5)
    bars = await stored(api, "5m")
    assert [b["timestamp"] for b in bars[-500:]] == [int(r[0]) for r in rows[-500:]]  # T0's are the newest
    assert not any(b["partial"] for b in bars)  # the live bars were replaced by the source's


async def test_holes_an_incremental_sync_left_are_repaired_by_the_next_sync(api, tv_simulator):
    rows = tv_simulator.market.history(TICKER, Interval.M1)
    full = list(rows)
    rows[:] = full[:-700]  # the source is 700 bars behind at first
    await sync(api, 1_000)
    rows[:] = full
    await sync(api, 100)  # a small incremental sync: the newest 100, leaving a hole of 600 behind them
    [status] = (await api.get("/api/v1/market-data/sync-status", params={"symbol": "BTCUSDT"})).json()
    assert status["coverage"]["missing_bars"] == 600
    mark = len(tv_simulator.received)
    await sync(api, 1_700)
    assert [b["timestamp"] for b in await stored(api)] == [int(r[0]) for r in full[-1_700:]]
    asked = requests_since(tv_simulator, mark)
    assert len(asked) == 1 and asked[0][1][5] <= 700  # one request: the hole and the newest bars
    [status] = (await api.get("/api/v1/market-data/sync-status", params={"symbol": "BTCUSDT"})).json()
    assert status["coverage"]["missing_bars"] == 0 and status["status"] == "completed"


async def test_a_hole_far_back_is_fetched_by_one_range_request(api, tv_simulator):
    rows = tv_simulator.market.history(TICKER, Interval.M1)
    full = list(rows)
    rows[:] = full[:-10_500]
    await sync(api, 1_500)  # the oldest 1,500 of the window
    rows[:] = full
    await sync(api, 6_500)  # the newest 6,500: 4,000 missing between
    mark = len(tv_simulator.received)
    await sync(api, 12_000)
    assert [b["timestamp"] for b in await stored(api)] == [int(r[0]) for r in full[-12_000:]]
    asked = sorted((p[6] if len(p) > 6 else "", p[5]) for m, p in requests_since(tv_simulator, mark))
    hole = f"r,{int(full[-10_500][0])}:{int(full[-6_501][0]) + 59}"
    assert asked == [("", 2), (hole, 5_000)]  # the hole by range (not 12,000 bars paged), the overlap by count


async def test_a_stretch_the_source_lacks_is_learned_and_a_refresh_asks_again(api, tv_simulator):
    rows = tv_simulator.market.history(TICKER, Interval.M5)
    first, last = int(rows[-300][0]), int(rows[-251][0])
    kept = list(rows)
    tv_simulator.market.remove_bars(TICKER, Interval.M5, first, last)
    await sync(api, 1_000, interval="5m")
    assert len(await stored(api, "5m")) == 1_000  # the window grew back over the 50 missing bars
    rows[:] = kept  # the source filled the stretch later
    mark = len(tv_simulator.received)
    await sync(api, 1_000, interval="5m")
    assert [p[5] for m, p in requests_since(tv_simulator, mark)] == [2]  # not asked again
    await sync(api, 1_000, interval="5m", refresh=True)
    assert first in {b["timestamp"] for b in await stored(api, "5m")}


async def test_refresh_refetches_the_window_and_repairs_revised_bars(api, tv_simulator):
    rows = tv_simulator.market.history(TICKER, Interval.H1)
    await sync(api, 300, interval="1h")
    revised = list(rows[-200])
    revised[4] = revised[3]  # the source revised an old bar's close
    rows[-200] = revised
    await sync(api, 300, interval="1h")
    assert (await stored(api, "1h"))[-200]["close"] != revised[4]  # stored and complete: not asked again
    body = await sync(api, 300, interval="1h", refresh=True)
    assert (await stored(api, "1h"))[-200]["close"] == revised[4] and body["bars_fetched"] == 300
