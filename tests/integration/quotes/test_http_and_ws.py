"""The quotes routes and WebSocket served by uvicorn over real sockets, fed by the simulator."""

import asyncio
import socket
from datetime import UTC, datetime

import httpx
import orjson
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from src.domain.market_data import Interval, OHLCVBar
from src.domain.realtime.aggregator import BarUpdate
from tests.integration.quotes.conftest import BTC, T0, until


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

pytestmark = pytest.mark.integration


async def frames_until(ws, predicate, within: float = 3.0) -> list[dict]:
    seen: list[dict] = []
    async with asyncio.timeout(within):
        while not seen or not predicate(seen[-1]):
            seen.append(orjson.loads(await ws.recv()))
    return seen


async def test_routes_drive_the_service_and_errors_are_problems(live, served):
    async with httpx.AsyncClient(base_url=served.url, timeout=5.0) as http:
        response = await http.post("/api/v1/quotes/subscribe", json={"symbols": ["BINANCE:BTCUSDT"],
                                                                     "intervals": ["15m"]})
        assert response.status_code == 200 and response.json() == {
            "subscriptions": [{"source": "tradingview", "symbol": "BINANCE:BTCUSDT"}]}
        await live.push(5, 123.5, 10.0)
        latest = (await http.get("/api/v1/quotes/latest/BINANCE/BTCUSDT")).json()
        assert (latest["symbol"], latest["price"], latest["volume"], latest["timestamp"]) == (
            "BINANCE:BTCUSDT", 123.5, 10.0, T0 + 5)
        missing = await http.get("/api/v1/quotes/latest/BINANCE/ETHUSDT")
        assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem")
        bar = (await http.get("/api/v1/quotes/current-bar/BINANCE/BTCUSDT", params={"interval": "15m"})).json()
        assert (bar["interval"], bar["timestamp"], bar["close"], bar["closed"]) == ("15m", T0, 123.5, False)
        assert (await http.get("/api/v1/quotes/current-bar/BINANCE/BTCUSDT",
                               params={"interval": "7m"})).status_code == 422
        assert [q["price"] for q in (await http.get("/api/v1/quotes/all")).json()] == [123.5]
        status = (await http.get("/api/v1/quotes/status")).json()
        assert status["running"] and status["connected"] and status["intervals"] == ["1m", "5m", "15m", "1h"]
        assert status["symbols"][0]["symbol"] == "BINANCE:BTCUSDT" and status["symbols"][0]["ticks"] >= 1
        intervals = await http.put("/api/v1/quotes/intervals", json={"intervals": ["1m", "4h"]})
        assert intervals.json() == {"intervals": ["1m", "4h"]}
        unknown = await http.post("/api/v1/quotes/subscribe", json={"symbols": ["BINANCE:NOPEUSDT"]})
        assert unknown.status_code == 404
        assert (await http.post("/api/v1/quotes/subscribe", json={"symbols": ["nope"]})).status_code == 422
        assert (await http.post("/api/v1/quotes/unsubscribe", json={"symbols": ["BINANCE:BTCUSDT"]})).json() \
            == {"subscriptions": []}
        stopped = (await http.post("/api/v1/quotes/stop")).json()
        assert not stopped["running"]
        assert (await http.post("/api/v1/quotes/subscribe", json={"symbols": ["BINANCE:BTCUSDT"]})).status_code \
            == 409
        started = await http.post("/api/v1/quotes/start", json={"symbols": ["BINANCE:BTCUSDT"]})
        assert started.json()["running"] and started.json()["symbols"][0]["symbol"] == "BINANCE:BTCUSDT"


async def test_websocket_client_gets_quotes_forming_and_completed_bars(live, served):
    await live.service.subscribe([BTC])
    await live.push(-30, 99.0, 1_000.0)
    async with connect(served.ws_url) as ws:
        await ws.send(orjson.dumps({"action": "subscribe", "symbols": ["BINANCE:BTCUSDT"],
                                    "intervals": ["1m"]}).decode())
        assert orjson.loads(await ws.recv())["type"] == "subscribed"
        snapshot = orjson.loads(await ws.recv())  # before any further tick
        assert (snapshot["type"], snapshot["symbol"], snapshot["quote"]["price"]) == (
            "snapshot", "BINANCE:BTCUSDT", 99.0)
        [forming] = snapshot["bars"]  # the interval asked for only
        assert (forming["interval"], forming["timestamp"], forming["close"], forming["closed"], forming["partial"]) == (
            "1m", T0 - 60, 99.0, False, False)  # seeded from history, extended by the tick
        await live.sim.push_tick(BTC.symbol.ticker, 100.0, 1_010.0, when=T0 + 1)
        seen = await frames_until(ws, lambda f: f["type"] == "bar" and f["timestamp"] == T0)
        quote = next(f for f in seen if f["type"] == "quote" and f["price"] == 100.0)
        assert quote["symbol"] == "BINANCE:BTCUSDT" and quote["volume"] == 1_010.0
        assert seen[-1]["closed"] is False and seen[-1]["interval"] == "1m"
        await live.sim.push_tick(BTC.symbol.ticker, 101.0, 1_020.0, when=T0 + 61)
        seen = await frames_until(ws, lambda f: f["type"] == "bar" and f["closed"])
        assert seen[-1] | {} == {"type": "bar", "source": "tradingview", "symbol": "BINANCE:BTCUSDT", "interval": "1m",
                                 "closed": True, "timestamp": T0, "time": iso(T0), "open": 100.0, "high": 100.0,
                                 "low": 100.0, "close": 100.0, "volume": 10.0, "partial": False}
        assert all(f.get("interval") in (None, "1m") for f in seen)  # only the interval asked for


async def test_bad_messages_get_error_frames_over_a_real_socket(live, served):
    async with connect(served.ws_url) as ws:
        for message in ("{oops", '{"action": "subscribe", "symbols": ["BINANCE:NOPEUSDT"]}',
                        '{"action": "subscribe", "symbols": ["BINANCE:BTCUSDT"], "intervals": ["2d"]}'):
            await ws.send(message)
            frame = orjson.loads(await asyncio.wait_for(ws.recv(), 3))
            assert frame["type"] == "error"
        await ws.send('{"action": "ping"}')
        assert orjson.loads(await asyncio.wait_for(ws.recv(), 3)) == {"type": "pong"}


def _tiny_buffer_socket(port: int) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    return sock


async def test_slow_client_is_dropped_while_a_fast_client_keeps_receiving(live, served):
    await live.service.subscribe([BTC])
    await live.push(-30, 99.0, 1_000.0)
    subscribe = orjson.dumps({"action": "subscribe", "symbols": ["BINANCE:BTCUSDT"]}).decode()
    port = int(served.url.rsplit(":", 1)[1])
    async with connect(served.ws_url) as fast, \
            connect(served.ws_url, sock=_tiny_buffer_socket(port), max_queue=1) as slow:
        for ws in (fast, slow):
            await ws.send(subscribe)
            assert orjson.loads(await ws.recv())["type"] == "subscribed"
        # The slow client never reads from now on. Completed bars (never coalesced) pile up for it.
        received: list[dict] = []

        async def read_fast() -> None:
            async for message in fast:
                received.append(orjson.loads(message))

        reader = asyncio.create_task(read_fast())
        padding = 1.0 + 1e-9
        for n in range(100_000):
            bar = OHLCVBar(Interval.M1, T0 - 60 * (n + 1), padding, padding, padding, padding, 123456.789)
            served.hub.on_bar_closed(BarUpdate(BTC, bar, closed=True))
            await asyncio.sleep(0)  # a tick's worth of work between bars: every sender gets a turn
            if served.hub.clients_dropped:
                break
        await until(lambda: served.hub.clients_dropped == 1 and len(served.hub.clients) == 1, within=5.0)
        assert n < 20_000
        # The fast client still gets live data from the simulator.
        await live.sim.push_tick(BTC.symbol.ticker, 150.0, 1_100.0, when=T0 + 1)
        await until(lambda: any(f["type"] == "quote" and f["price"] == 150.0 for f in received), within=3.0)
        assert sum(1 for f in received if f["type"] == "bar" and f["closed"]) > 32
        reader.cancel()
        # The slow client, once it reads, finds its connection closed (1013 when the close frame made it).
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(5):
                while True:
                    await slow.recv()
        assert closed.value.rcvd is None or closed.value.rcvd.code == 1013
