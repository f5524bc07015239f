"""The Binance simulator's market streams over real WebSockets: payloads, combined streams, live requests,
trades consistent with klines, ping/pong, lifetime and dropped connections."""

import asyncio
import contextlib
import time
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from simulators.binance import BinanceSimulator

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


async def next_json(ws: aiohttp.ClientWebSocketResponse, wait: float = 3.0) -> Any:
    async with asyncio.timeout(wait):
        while True:
            message = await ws.receive()
            if message.type is aiohttp.WSMsgType.TEXT:
                return message.json()
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
                raise ConnectionError("closed")


@contextlib.asynccontextmanager
async def connect(sim: BinanceSimulator, path: str, autoping: bool = True):
    async with aiohttp.ClientSession() as http, http.ws_connect(sim.stream_url + path, autoping=autoping) as ws:
        yield ws


async def test_a_raw_trade_stream_sends_binance_trade_payloads(binance_simulator):
    async with connect(binance_simulator, "ws/btcusdt@trade") as ws:
        await asyncio.sleep(0.05)
        trade = await binance_simulator.push_trade("BTCUSDT", "60000.01", "0.5", buyer_maker=True)
        payload = await next_json(ws)
    assert list(payload) == ["e", "E", "s", "t", "p", "q", "T", "m", "M"]
    assert payload["e"] == "trade" and payload["s"] == "BTCUSDT" and payload["t"] == trade.id
    assert (payload["p"], payload["q"], payload["m"]) == ("60000.01000000", "0.50000000", True)
    assert payload["T"] == trade.time_ms


async def test_a_combined_stream_wraps_each_payload_with_its_stream_name(binance_simulator):
    async with connect(binance_simulator, "stream?streams=btcusdt@trade/ethusdt@trade") as ws:
        await asyncio.sleep(0.05)
        await binance_simulator.push_trade("ETHUSDT", "3000.00", "1")
        message = await next_json(ws)
    assert set(message) == {"stream", "data"} and message["stream"] == "ethusdt@trade"
    assert message["data"]["s"] == "ETHUSDT"


async def test_subscribe_unsubscribe_and_list_subscriptions_answer_with_their_id(binance_simulator):
    async with connect(binance_simulator, "ws") as ws:
        await ws.send_json({"method": "SUBSCRIBE", "params": ["btcusdt@trade", "ethusdt@kline_1m"], "id": 1})
        assert await next_json(ws) == {"result": None, "id": 1}
        await ws.send_json({"method": "UNSUBSCRIBE", "params": ["ethusdt@kline_1m"], "id": 2})
        assert await next_json(ws) == {"result": None, "id": 2}
        await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": 3})
        assert await next_json(ws) == {"result": ["btcusdt@trade"], "id": 3}
        await ws.send_json({"method": "SET_PROPERTY", "params": ["combined", True], "id": 4})
        assert await next_json(ws) == {"result": None, "id": 4}
        await binance_simulator.push_trade("BTCUSDT", "60000.00", "0.1")
        assert (await next_json(ws))["stream"] == "btcusdt@trade"
        await asyncio.sleep(1.0)  # at most 5 incoming messages a second
        await ws.send_json({"method": "NOPE", "id": 5})
        error = await next_json(ws)
        assert error["id"] == 5 and error["error"]["code"] == 2
        await ws.send_str("{not json")
        assert (await next_json(ws))["error"]["code"] == 3


async def test_a_closed_kline_holds_exactly_the_trades_of_its_period(binance_simulator):
    async with connect(binance_simulator, "ws/solusdt@kline_1s") as ws:
        await asyncio.sleep(1.02 - time.time() % 1)
        trades = [await binance_simulator.push_trade("SOLUSDT", price, qty) for price, qty in
                  (("150.01", "2.5"), ("150.20", "1.25"), ("149.90", "0.5"))]
        second = trades[0].time_ms // 1000 * 1000
        closed = None
        async with asyncio.timeout(5):
            while closed is None:
                kline = (await next_json(ws))["k"]
                if kline["t"] == second and kline["x"]:
                    closed = kline
    same_second = [t for t in trades if t.time_ms // 1000 * 1000 == second]
    assert Decimal(closed["v"]) == sum(Decimal(t.quantity) / 10**8 for t in same_second)
    assert closed["n"] == len(same_second) and closed["f"] == same_second[0].id and closed["L"] == same_second[-1].id
    assert set(closed) == {"t", "T", "s", "i", "f", "L", "o", "c", "h", "l", "v", "n", "x", "q", "V", "Q", "B"}


async def test_generated_trades_add_up_to_the_rest_klines_of_their_minutes(binance_simulator):
    received: list[dict[str, Any]] = []
    async with connect(binance_simulator, "ws/ethusdt@trade") as ws:
        binance_simulator.faults.trade_rate = 40.0
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.5):
                while True:
                    received.append(await next_json(ws))
        binance_simulator.faults.trade_rate = 0.0
    assert len(received) > 20
    async with aiohttp.ClientSession() as http, http.get(binance_simulator.api_url + "/v3/klines", params={
            "symbol": "ETHUSDT", "interval": "1s", "startTime": str(received[0]["T"] // 1000 * 1000),
            "endTime": str(received[-1]["T"])}) as response:
        bars = await response.json()
    assert len(bars) >= 2
    for bar in bars[:-1]:  # the newest second may hold a trade generated after reading stopped
        inside = [t for t in received if bar[0] <= t["T"] <= bar[6]]
        assert Decimal(bar[5]) == sum((Decimal(t["q"]) for t in inside), Decimal(0))
        assert bar[8] == len(inside)
        if inside:
            assert bar[4] == inside[-1]["p"]
            assert Decimal(bar[2]) == max(Decimal(t["p"]) for t in inside)


async def test_the_server_pings_and_drops_a_client_that_does_not_pong(binance_simulator):
    binance_simulator.faults.update({"ping_interval": 0.1, "pong_timeout": 0.5})
    async with connect(binance_simulator, "ws/btcusdt@trade", autoping=False) as ws:
        pings, closed_after = 0, None
        started = time.monotonic()
        async with asyncio.timeout(3):
            while True:
                message = await ws.receive()
                if message.type is aiohttp.WSMsgType.PING:
                    pings += 1
                elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                    closed_after = time.monotonic() - started
                    break
    assert pings >= 2 and 0.4 <= closed_after < 2.0


async def test_a_client_that_pongs_stays_connected(binance_simulator):
    binance_simulator.faults.update({"ping_interval": 0.25, "pong_timeout": 0.6})
    async with connect(binance_simulator, "ws/btcusdt@trade") as ws:
        with pytest.raises(TimeoutError):  # reading for a second: aiohttp answers the pings meanwhile
            await next_json(ws, wait=1.0)
        await binance_simulator.push_trade("BTCUSDT", "60000.00", "0.1")
        assert (await next_json(ws))["e"] == "trade"


async def test_a_connection_is_closed_at_the_end_of_its_lifetime(binance_simulator):
    binance_simulator.faults.connection_lifetime = 0.3
    async with connect(binance_simulator, "ws/btcusdt@trade") as ws:
        async with asyncio.timeout(3):
            message = await ws.receive()
    assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_dropping_the_streams_cuts_every_connection(binance_simulator):
    async with connect(binance_simulator, "ws/btcusdt@trade") as first, \
            connect(binance_simulator, "stream?streams=ethusdt@trade") as second:
        await asyncio.sleep(0.05)
        async with aiohttp.ClientSession() as http, http.post(binance_simulator.base_url + "/_sim/drop-streams"):
            pass
        async with asyncio.timeout(3):
            ends = [await first.receive(), await second.receive()]
    assert all(m.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR) for m in ends)


async def test_more_than_five_messages_a_second_closes_the_connection(binance_simulator):
    async with connect(binance_simulator, "ws") as ws:
        for number in range(7):
            await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": number})
        with pytest.raises(ConnectionError):
            for _ in range(7):
                await next_json(ws)
