"""Issue 16 end to end: indicators and features over HTTP after a sync against the TradingView simulator,
cache invalidation after a write, and live updates (REST and WebSocket frames) as simulator ticks close bars."""

import asyncio
import io
import time

import numpy as np
import orjson
import pandas as pd
import pytest
import talib
from websockets.asyncio.client import connect

from src.domain.features import FEATURES_V1
from src.domain.indicators.warmup import TOLERANCE
from src.domain.market_data import Interval

pytestmark = pytest.mark.e2e
TICKER = "BINANCE:BTCUSDT"
OHLCV = "/api/v1/market-data/ohlcv/BINANCE/BTCUSDT"
INDICATORS = "/api/v1/indicators/BINANCE/BTCUSDT"
FEATURES = "/api/v1/features/BINANCE/BTCUSDT"
T0 = (int(time.time()) // 86_400 + 2) * 86_400  # live ticks two days ahead, clear of the synced history
SMA = talib.MA_Type.SMA


async def _sync(api, n_bars: int) -> None:
    body = {"exchange": "BINANCE", "symbol": "BTCUSDT", "interval": "1m", "n_bars": n_bars}
    response = await api.post("/api/v1/market-data/sync", json=body)
    assert response.status_code == 200 and response.json()["status"] == "completed", response.text


async def _stored(api) -> dict[str, np.ndarray]:
    bars = (await api.get(OHLCV, params={"interval": "1m", "limit": 100_000})).json()["bars"]
    return {name: np.array([bar[name] for bar in bars]) for name in ("timestamp", "high", "low", "close", "volume")}


def _column(rows: list[dict], name: str) -> np.ndarray:
    return np.array([np.nan if row[name] is None else row[name] for row in rows], dtype=np.float64)


def _assert_close(got: np.ndarray, want: np.ndarray, what: str) -> None:
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=what)
    np.testing.assert_allclose(got, want, rtol=TOLERANCE, atol=TOLERANCE * np.nanmax(np.abs(want)), err_msg=what)


async def test_indicators_after_a_sync_equal_talib_on_the_synced_bars_from_inside_the_warmup(api):
    await _sync(api, 2_000)
    s = await _stored(api)
    reference = {
        "rsi_14": talib.RSI(s["close"]),
        "macd_signal_12_26_9": talib.MACD(s["close"])[1],
        "bb_lower_20_2": talib.BBANDS(s["close"], 20, 2.0, 2.0, SMA)[2],
        "stoch_d_14_3_3": talib.STOCH(s["high"], s["low"], s["close"], 14, 3, SMA, 3, SMA)[1],
        "adx_14": talib.ADX(s["high"], s["low"], s["close"]),
    }
    for first, last in [(3, 400), (900, 1_999)]:
        params = {"interval": "1m", "indicators": "rsi:14,macd,bb:20:2,stoch,adx:14", "bars": "true",
                  "start": int(s["timestamp"][first]), "end": int(s["timestamp"][last])}
        body = (await api.get(INDICATORS, params=params)).json()
        assert body["count"] == last - first + 1
        assert _column(body["rows"], "close").tolist() == s["close"][first:last + 1].tolist()
        for name, want in reference.items():
            _assert_close(_column(body["rows"], name), want[first:last + 1], f"{name} [{first}:{last}]")


async def test_features_as_parquet_after_a_sync_match_their_json_rows(api):
    await _sync(api, 1_500)
    parquet = await api.get(FEATURES, params={"interval": "1m", "limit": 500, "format": "parquet"})
    frame = pd.read_parquet(io.BytesIO(parquet.content))
    rows = (await api.get(FEATURES, params={"interval": "1m", "limit": 500})).json()["rows"]
    assert list(frame.columns) == ["time", *FEATURES_V1.names] and len(frame) == 500
    for name in ("rsi_14", "rvol_20", "vwap_dist", "session_return", "hour_of_day"):
        np.testing.assert_array_equal(frame[name].to_numpy(), _column(rows, name), err_msg=name)


async def test_a_resync_that_revises_a_bar_invalidates_the_cached_indicators_of_its_series(api, tv_simulator):
    await _sync(api, 300)
    params = {"interval": "1m", "indicators": "sma:5", "limit": 1}
    before = (await api.get(INDICATORS, params=params)).json()["rows"][-1]
    assert (await api.get(INDICATORS, params=params)).json()["rows"][-1] == before  # served from the cache
    rows = tv_simulator.market.history(TICKER, Interval.M1)
    last = list(rows[-1])
    last[4] += 50.0  # the forming bar's close moved
    last[2] = max(last[2], last[4])
    rows[-1] = last
    await _sync(api, 300)
    after = (await api.get(INDICATORS, params=params)).json()["rows"][-1]
    s = await _stored(api)
    assert after["timestamp"] == before["timestamp"]
    assert after["sma_5"] == pytest.approx(before["sma_5"] + 10.0)
    assert after["sma_5"] == pytest.approx(talib.SMA(s["close"], 5)[-1], rel=1e-12)


async def test_closed_live_bars_update_latest_values_and_websocket_indicator_frames(api, tv_simulator):
    await _sync(api, 1_000)
    subscribed = await api.post("/api/v1/quotes/subscribe", json={"symbols": [TICKER], "intervals": ["1m"]})
    assert subscribed.status_code == 200, subscribed.text
    ws_url = str(api.base_url).replace("http://", "ws://") + "/api/v1/ws/quotes"
    async with connect(ws_url) as ws:
        await ws.send(orjson.dumps({"action": "subscribe", "symbols": [TICKER], "intervals": ["1m"],
                                    "indicators": ["rsi:14", "vwap"]}).decode())
        assert orjson.loads(await ws.recv())["indicators"] == ["rsi:14", "vwap"]
        base = (await api.get("/api/v1/quotes/latest/BINANCE/BTCUSDT")).json()["volume"]
        for offset, price, volume in [(1, 100.0, 10), (30, 104.0, 14), (61, 101.0, 20), (121, 99.0, 26)]:
            await tv_simulator.push_tick(TICKER, price, base + volume, when=T0 + offset)  # closes T0, T0 + 60
        closed, indicator = [], None
        async with asyncio.timeout(10):
            while indicator is None or indicator["timestamp"] != T0 + 60:  # frames coalesce: wait for the last
                frame = orjson.loads(await ws.recv())
                if frame["type"] == "bar" and frame["closed"] and frame["timestamp"] >= T0:
                    closed.append(frame)
                indicator = frame if frame["type"] == "indicator" else indicator
    # The live bars open a new UTC day: the session VWAP averages them alone.
    traded = sum((b["high"] + b["low"] + b["close"]) / 3 * b["volume"] for b in closed)
    assert [b["timestamp"] for b in closed] == [T0, T0 + 60]
    assert indicator["values"]["vwap"] == pytest.approx(traded / sum(b["volume"] for b in closed), rel=1e-12)
    latest = (await api.get(INDICATORS + "/latest", params={"interval": "1m"})).json()
    assert latest["live"] is True and latest["timestamp"] == T0 + 60
    assert latest["values"]["rsi_14"] == pytest.approx(indicator["values"]["rsi_14"], rel=1e-12)
    batch = (await api.get(INDICATORS, params={"interval": "1m", "limit": 2})).json()["rows"]
    assert [row["timestamp"] for row in batch] == [T0, T0 + 60]  # the live writes invalidated the cache
    for name, value in latest["values"].items():
        assert value == pytest.approx(batch[-1][name], rel=TOLERANCE, abs=TOLERANCE), name
    features = (await api.get(FEATURES + "/latest", params={"interval": "1m"})).json()
    assert features["live"] is True and features["values"]["bars_since_session_open"] == 1.0
