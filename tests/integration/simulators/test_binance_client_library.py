"""python-binance, unchanged, pointed at the simulator: paged history, exchange info, trade and kline streams.

Only its documented URL attributes change: `API_URL` (REST base) on the client class and `STREAM_URL` on the
socket manager."""

import asyncio
import time

import pytest
from binance import AsyncClient, BinanceSocketManager

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@pytest.fixture
async def client(binance_simulator):
    class SimulatorClient(AsyncClient):
        API_URL = binance_simulator.api_url

    client = await SimulatorClient.create()
    try:
        yield client
    finally:
        await client.close_connection()


async def test_historical_klines_page_through_the_simulator(client, binance_simulator):
    end = int(time.time() * 1000) // 60_000 * 60_000 - 60_000
    start = end - 2_499 * 60_000
    rows = await client.get_historical_klines("BTCUSDT", AsyncClient.KLINE_INTERVAL_1MINUTE, start, end)
    assert [r[0] for r in rows] == list(range(start, end + 1, 60_000))
    assert binance_simulator.request_count("/api/v3/klines") == 1 + 3  # the earliest-timestamp probe, 3 pages
    direct = await client.get_klines(symbol="BTCUSDT", interval="1m", startTime=start, limit=5)
    assert rows[:5] == direct


async def test_exchange_info_and_symbol_info(client):
    info = await client.get_exchange_info()
    assert {s["symbol"] for s in info["symbols"]} >= {"BTCUSDT", "ETHBTC", "BCCUSDT"}
    symbol = await client.get_symbol_info("ETHBTC")
    assert symbol["baseAsset"] == "ETH" and symbol["status"] == "TRADING"
    assert (await client.get_symbol_ticker(symbol="ETHBTC"))["symbol"] == "ETHBTC"


async def test_an_unknown_symbol_raises_the_binance_api_exception(client):
    from binance.exceptions import BinanceAPIException

    with pytest.raises(BinanceAPIException) as raised:
        await client.get_klines(symbol="NOPEUSDT", interval="1m")
    assert raised.value.code == -1121 and raised.value.status_code == 400


async def test_trade_and_kline_sockets_receive_simulated_trades(client, binance_simulator):
    manager = BinanceSocketManager(client)
    manager.STREAM_URL = binance_simulator.stream_url
    async with manager.trade_socket("BNBUSDT") as trades:
        await asyncio.sleep(0.3)
        await binance_simulator.push_trade("BNBUSDT", "551.5", "2")
        trade = await asyncio.wait_for(trades.recv(), 5)
    assert (trade["e"], trade["s"], trade["p"], trade["q"]) == ("trade", "BNBUSDT", "551.50000000", "2.00000000")
    async with manager.kline_socket("BNBUSDT", interval=AsyncClient.KLINE_INTERVAL_1MINUTE) as bars:
        kline = await asyncio.wait_for(bars.recv(), 5)
    assert kline["e"] == "kline" and kline["k"]["i"] == "1m" and kline["k"]["s"] == "BNBUSDT"
