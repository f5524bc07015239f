"""Issue 6 end to end through the composition root: subscribe over HTTP, ticks from the simulator become
quotes, live bars, stored bars and WebSocket frames."""

import asyncio
import time

import orjson
import pytest
from websockets.asyncio.client import connect

pytestmark = pytest.mark.e2e
TICKER = "BINANCE:BTCUSDT"
# Ticks are stamped two days ahead so the simulator's own "now" trades never fall inside the test's bars.
T0 = (int(time.time()) // 86_400 + 2) * 86_400


async def _eventually(fetch, predicate, within=5.0):
    deadline = time.monotonic() + within
    while True:
        value = await fetch()
        if predicate(value) or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.05)


async def test_ticks_become_quotes_live_bars_stored_bars_and_websocket_frames(api, tv_simulator):
    subscribed = await api.post("/api/v1/quotes/subscribe", json={"symbols": [TICKER], "intervals": ["1m"]})
    assert subscribed.status_code == 200, subscribed.text
    ws_url = str(api.base_url).replace("http://", "ws://") + "/api/v1/ws/quotes"
    async with connect(ws_url) as ws:
        await ws.send(orjson.dumps({"action": "subscribe", "symbols": [TICKER], "intervals": ["1m"]}).decode())
        assert orjson.loads(await ws.recv())["type"] == "subscribed"

        # The subscribe snapshot carries the session's cumulative volume so far; trades add to it.
        base = (await api.get("/api/v1/quotes/latest/BINANCE/BTCUSDT")).json()["volume"]
        await tv_simulator.push_tick(TICKER, 100.0, base + 100, when=T0 + 1)
        await tv_simulator.push_tick(TICKER, 103.0, base + 104, when=T0 + 20)
        await tv_simulator.push_tick(TICKER, 99.0, base + 110, when=T0 + 40)
        await tv_simulator.push_tick(TICKER, 101.0, base + 111, when=T0 + 61)  # closes the T0 minute

        async with asyncio.timeout(5):
            while (frame := orjson.loads(await ws.recv())) != frame | {"type": "bar", "closed": True, "timestamp": T0}:
                pass
        assert (frame["timestamp"], frame["open"], frame["high"], frame["low"], frame["close"]) == (
            T0, 100.0, 103.0, 99.0, 99.0)
        assert frame["volume"] == pytest.approx(110.0)  # the increase of the session total inside the bar

    latest = (await api.get("/api/v1/quotes/latest/BINANCE/BTCUSDT")).json()
    assert (latest["price"], latest["timestamp"]) == (101.0, T0 + 61)
    assert latest["time"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(T0 + 61))
    forming = (await api.get("/api/v1/quotes/current-bar/BINANCE/BTCUSDT", params={"interval": "1m"})).json()
    assert (forming["timestamp"], forming["close"], forming["closed"]) == (T0 + 60, 101.0, False)

    async def stored_bars():
        response = await api.get("/api/v1/market-data/ohlcv/BINANCE/BTCUSDT",
                                 params={"interval": "1m", "start": T0, "end": T0 + 3600})
        return [] if response.status_code == 404 else response.json()["bars"]  # 404: nothing stored yet

    bars = await _eventually(stored_bars, lambda b: len(b) == 1)
    assert [(b["timestamp"], b["close"], b["volume"]) for b in bars] == [(T0, 99.0, pytest.approx(110.0))]

    stopped = await api.post("/api/v1/quotes/stop")
    assert stopped.status_code == 200 and not stopped.json()["running"]
    bars = await _eventually(stored_bars, lambda b: len(b) == 2)  # the forming bar was flushed on stop
    assert [b["timestamp"] for b in bars] == [T0, T0 + 60] and bars[1]["close"] == 101.0

    metrics = (await api.get("/metrics")).text
    ticks_line = next(line for line in metrics.splitlines() if line.startswith("quote_ticks_aggregated_total"))
    assert float(ticks_line.split()[-1]) >= 4
