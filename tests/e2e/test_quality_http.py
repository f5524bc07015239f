"""Issue 19 end to end: a sync from the TradingView simulator whose history holds a bad tick is checked in
the background; the quality API shows the score, the checks and the flagged bar; `exclude_flagged=true`
leaves it out of bars and indicators until a user clears the flag; the summary, on-demand checks, the
reconciliation's 404 without live bars, and the Prometheus gauges."""

import asyncio
import time

import pytest

from src.domain.market_data import Interval

pytestmark = pytest.mark.e2e
TICKER = "BINANCE:BTCUSDT"
QUALITY = "/api/v1/quality/BINANCE/BTCUSDT"
OHLCV = "/api/v1/market-data/ohlcv/BINANCE/BTCUSDT"
INDICATORS = "/api/v1/indicators/BINANCE/BTCUSDT"
BAD_FROM_END = 60  # the bad tick's position from the newest bar


async def _checked(api, params: dict, within: float = 10.0) -> dict:
    """The series' quality once its background check after the sync has run."""
    deadline = time.monotonic() + within
    while True:
        response = await api.get(QUALITY, params=params)
        if response.status_code == 200 or time.monotonic() > deadline:
            assert response.status_code == 200, response.text
            return response.json()
        await asyncio.sleep(0.05)


def _spoil(tv_simulator) -> int:
    """One bar of the simulator's history jumps 20% and comes straight back: a bad tick. Its time."""
    rows = tv_simulator.market.history(TICKER, Interval.M1)
    row = list(rows[-BAD_FROM_END])
    row[4] *= 1.2
    row[2] = max(row[2], row[4])
    rows[-BAD_FROM_END] = row
    return int(row[0])


async def _times(api, **params) -> list[int]:
    response = await api.get(OHLCV, params={"interval": "1m", "limit": 500, **params})
    assert "bars" in response.json(), response.text[:300]
    return [bar["timestamp"] for bar in response.json()["bars"]]


async def test_a_synced_bad_tick_is_flagged_excluded_on_request_and_served_again_once_cleared(api, tv_simulator):
    bad = _spoil(tv_simulator)
    body = {"exchange": "BINANCE", "symbol": "BTCUSDT", "interval": "1m", "n_bars": 300}
    assert (await api.post("/api/v1/market-data/sync", json=body)).status_code == 200
    quality = await _checked(api, {"interval": "1m", "check": "price_spikes"})
    assert 0 <= quality["score"] < 100 and "price_spikes" in quality["checks_failed"]
    assert {"ohlc_sanity", "missing_session_bars", "stale_series", "future_bars"} <= {
        c["name"] for c in quality["checks"]}
    flagged = {item["bar_time"]: item for item in quality["anomalies"]["items"]}
    assert flagged[bad]["state"] == "open" and flagged[bad]["excludes_bars"] is True
    assert flagged[bad]["values"]["close"] == pytest.approx(tv_simulator.market.history(TICKER, Interval.M1)[
        -BAD_FROM_END][4])
    assert len(quality["history"]) == 1 and quality["history"][0]["score"] == quality["score"]

    every = await _times(api)
    assert bad in every and bad not in await _times(api, exclude_flagged="true")
    params = {"interval": "1m", "indicators": "sma:3", "start": bad - 600, "end": bad + 600}
    rows = (await api.get(INDICATORS, params={**params, "exclude_flagged": "true"})).json()["rows"]
    assert rows and bad not in [row["timestamp"] for row in rows]

    verdict = await api.post(f"{QUALITY}/flags", params={"interval": "1m"},
                             json={"check": "price_spikes", "bar_time": bad, "verdict": "cleared"})
    assert verdict.status_code == 200 and verdict.json()["state"] == "cleared", verdict.text
    assert bad in await _times(api, exclude_flagged="true")
    again = await api.post(f"{QUALITY}/flags", params={"interval": "1m"},
                           json={"check": "price_spikes", "bar_time": bad, "verdict": "cleared"})
    assert again.status_code == 422 and again.headers["content-type"].startswith("application/problem+json")
    missing = await api.post(f"{QUALITY}/flags", params={"interval": "1m"},
                             json={"check": "price_spikes", "bar_time": bad + 1, "verdict": "confirmed"})
    assert missing.status_code == 404 and missing.json()["field"] == "bar_time"

    checked = await api.post(f"{QUALITY}/check", params={"interval": "1m"})
    assert checked.status_code == 200 and len(checked.json()["history"]) == 2
    summary = (await api.get("/api/v1/quality")).json()
    assert summary["total"] == 1 and summary["series"][0]["symbol"] == "BTCUSDT"
    assert summary["sources"]["tradingview"] == pytest.approx(checked.json()["score"], abs=1e-3)
    reconcile = await api.post(f"{QUALITY}/reconcile", params={"interval": "1m"})
    assert reconcile.status_code == 404  # no live-built bars wait
    metrics = (await api.get("/metrics")).text
    assert 'quality_score{source="tradingview"}' in metrics
    assert 'quality_anomalies_total{check="price_spikes"}' in metrics


async def test_a_series_never_checked_and_bad_parameters_are_answered_as_documented(api):
    unknown = await api.get("/api/v1/quality/NASDAQ/AAPL", params={"interval": "1h"})
    assert unknown.status_code == 404
    bad = await api.get(QUALITY, params={"interval": "1m", "state": "maybe"})
    assert bad.status_code == 422 and "state" in bad.text
    no_bars = await api.post("/api/v1/quality/NASDAQ/AAPL/check", params={"interval": "1h"})
    assert no_bars.status_code == 404


async def test_rows_the_source_sent_broken_are_skipped_counted_and_fail_the_ohlc_check(api, tv_simulator):
    tv_simulator.faults.broken_rows_every = 7  # every 7th minute's row comes with its high below its low
    try:
        body = {"exchange": "BINANCE", "symbol": "BTCUSDT", "interval": "1m", "n_bars": 300}
        synced = await api.post("/api/v1/market-data/sync", json=body)
        assert synced.status_code == 200, synced.text
        history = tv_simulator.market.history(TICKER, Interval.M1)
        stored = await _times(api)
        sent = [int(row[0]) for row in history if int(row[0]) >= min(stored)]
        broken = [t for t in sent if t // 60 % 7 == 0]
        # Each answer's broken rows count: the sync asks again for the bars they left missing, and gets them
        # broken again.
        rejected = synced.json()["bars_rejected"]
        assert broken and rejected >= len(broken)
        assert not set(broken) & set(stored)  # none of them stored
        quality = await _checked(api, {"interval": "1m"})
        assert quality["rejected_upstream"] == rejected
        assert "ohlc_sanity" in quality["checks_failed"]
    finally:
        tv_simulator.faults.broken_rows_every = 0
