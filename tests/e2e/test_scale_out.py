"""Scaling out with real processes: API workers and collectors (`pocketquant serve --roles ...`) against one
Redis, the embedded store as its own process and the TradingView simulator (on the test's event loop).

A WebSocket client and the quote routes of an API worker serve the live data of the session the collector
owns; a control operation made on a worker reaches the collector; killing the leading collector (SIGKILL)
hands the sessions to the standby within the lease time, and the worker's client gets ticks again; killing
an API worker releases what its WebSocket clients held on the collector."""

import asyncio
import time

import httpx
import orjson
import pytest
from websockets.asyncio.client import ClientConnection, connect

from src.domain.market_data import Interval
from tests.fixtures.cluster import Cluster, tv_settings

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

TICKER = "BINANCE:BTCUSDT"
LEASE_S = 3.0


@pytest.fixture
async def cluster(tmp_path, own_redis, tv_simulator):
    deployment = Cluster(tmp_path, own_redis.url, tv_settings(tv_simulator),
                         settings={"COLLECTOR_LEASE_S": str(LEASE_S), "CLUSTER_STATUS_EVERY_S": "0.5"})
    deployment.start_store()
    try:
        yield deployment
    finally:
        outputs = deployment.stop()
        assert all(code in (0, -15, -9) for code, _ in outputs), outputs


async def quotes_until(ws: ClientConnection, wanted: int, timeout_s: float = 15.0,
                       bars: list[dict] | None = None) -> list[dict]:
    """The next `wanted` quote frames (the bar frames meanwhile go to `bars`)."""
    quotes: list[dict] = []
    async with asyncio.timeout(timeout_s):
        while len(quotes) < wanted:
            frame = orjson.loads(await ws.recv())
            if frame["type"] == "quote":
                quotes.append(frame)
            elif frame["type"] == "bar" and bars is not None:
                bars.append(frame)
    return quotes


async def subscribe(ws: ClientConnection) -> None:
    await ws.send(orjson.dumps({"action": "subscribe", "symbols": [TICKER], "intervals": ["1m"]}).decode())
    async with asyncio.timeout(20):
        while (frame := orjson.loads(await ws.recv()))["type"] != "subscribed":
            assert frame["type"] != "error", frame


async def push_ticks(simulator, prices: list[float], every_s: float = 0.02) -> None:
    for price in prices:
        await simulator.push_tick(TICKER, price)
        await asyncio.sleep(every_s)


async def test_a_client_of_another_worker_gets_the_collectors_ticks_and_its_routes_serve_them(cluster, tv_simulator):
    [collector] = await cluster.add("collector")
    first, second = await cluster.add("api", "api")
    assert await collector.leading()
    async with connect(second.ws_url) as ws:
        await subscribe(ws)  # reaches the collector through the commands stream
        prices = [50_000.0 + n for n in range(20)]
        pushing = asyncio.create_task(push_ticks(tv_simulator, prices))
        bars: list[dict] = []
        received = await quotes_until(ws, 5, bars=bars)
        await pushing
        assert {q["price"] for q in received} <= {*prices, *(q["price"] for q in received[:1])}
        # The live bar the collector builds, forming with the ticks it saw (one may close at a minute's end).
        assert {b["interval"] for b in bars} == {"1m"}
        assert {b["close"] for b in bars if not b["closed"]} & set(prices)
        await asyncio.sleep(0.3)
        async with httpx.AsyncClient(timeout=10) as client:
            latest = (await client.get(f"{first.url}/api/v1/quotes/latest/BINANCE/BTCUSDT")).json()
            everything = (await client.get(f"{first.url}/api/v1/quotes/all")).json()
            status = (await client.get(f"{first.url}/api/v1/quotes/status")).json()
            bar = await client.get(f"{first.url}/api/v1/quotes/current-bar/BINANCE/BTCUSDT", params={"interval": "1m"})
    assert latest["price"] == prices[-1]  # the worker that holds no session serves the collector's quote
    assert [q["symbol"] for q in everything] == [TICKER]
    assert status["running"] and [s["symbol"] for s in status["symbols"]] == [TICKER], status
    assert bar.status_code == 200 and bar.json()["close"] == prices[-1]


async def test_a_control_operation_on_a_worker_reaches_the_collector(cluster):
    await cluster.add("collector")
    [worker] = await cluster.add("api")
    async with httpx.AsyncClient(timeout=30) as client:
        subscribed = await client.post(f"{worker.url}/api/v1/quotes/subscribe", json={"symbols": [TICKER]})
        assert subscribed.status_code == 200, subscribed.text
        unknown = await client.post(f"{worker.url}/api/v1/quotes/subscribe", json={"symbols": ["NOPE:NOTHING"]})
        stopped = await client.post(f"{worker.url}/api/v1/quotes/stop")
        after = (await client.get(f"{worker.url}/api/v1/quotes/status")).json()
    assert unknown.status_code == 404, unknown.text  # the collector's SymbolNotFound, as this worker maps it
    assert stopped.status_code == 200 and not after["running"]


async def test_killing_the_leading_collector_hands_its_sessions_to_the_standby(cluster, tv_simulator):
    await cluster.add("collector", "collector")
    [worker] = await cluster.add("api")
    leader = await cluster.leader()
    async with connect(worker.ws_url) as ws:
        await subscribe(ws)
        await push_ticks(tv_simulator, [60_000.0, 60_001.0])
        await quotes_until(ws, 1)
        leader.kill()
        killed = time.monotonic()
        pushing = asyncio.create_task(push_ticks(tv_simulator, [61_000.0 + n for n in range(2_000)], every_s=0.01))
        try:
            [after] = await quotes_until(ws, 1, timeout_s=LEASE_S * 4)
            while after["price"] < 61_000.0:
                [after] = await quotes_until(ws, 1, timeout_s=LEASE_S * 4)
        finally:
            pushing.cancel()
        failover_s = time.monotonic() - killed
    standby = await cluster.leader()
    assert standby is not leader
    assert failover_s <= LEASE_S + LEASE_S / 3 + 3.0, failover_s  # the lease, one attempt, resubscribing


async def test_the_symbols_of_a_killed_workers_clients_are_released_on_the_collector(cluster, tv_simulator):
    await cluster.add("collector")
    doomed, survivor = await cluster.add("api", "api")
    async with connect(doomed.ws_url) as ws:
        await subscribe(ws)
        async with httpx.AsyncClient(timeout=10) as client:
            held = (await client.get(f"{survivor.url}/api/v1/quotes/status")).json()["symbols"]
            assert [(s["symbol"], s["holders"]) for s in held] == [(TICKER, 1)]
            doomed.kill()
            killed = time.monotonic()
            async with asyncio.timeout(LEASE_S * 4):
                while (await client.get(f"{survivor.url}/api/v1/quotes/status")).json()["symbols"]:  # noqa: ASYNC110
                    await asyncio.sleep(0.1)
    assert time.monotonic() - killed <= LEASE_S + 2.0  # its presence expired, then the next report released it


async def tick_every(simulator, every_s: float) -> None:
    n = 0
    while True:
        await simulator.push_tick(TICKER, 70_000.0 + (n % 50) * 3.5)
        n += 1
        await asyncio.sleep(every_s)


async def test_no_bar_is_lost_or_doubled_across_a_collector_failover(cluster, tv_simulator):
    """The bar forming when the collector dies is seeded again by the standby from the source's history and
    closed by it; the bar before it was closed by the dead one. Every minute is stored once, as the simulator
    (which applied every tick) has it."""
    await cluster.add("collector", "collector")
    [worker] = await cluster.add("api")
    leader = await cluster.leader()
    async with httpx.AsyncClient(timeout=30) as client:
        subscribed = await client.post(f"{worker.url}/api/v1/quotes/subscribe",
                                       json={"symbols": [TICKER], "intervals": ["1m"]})
        assert subscribed.status_code == 200, subscribed.text
        ticking = asyncio.create_task(tick_every(tv_simulator, 0.1))
        try:
            minute_end = (time.time() // 60 + 2) * 60  # the minute after the one subscribed in
            await asyncio.sleep(minute_end - 15 - time.time())  # the kill, 15 s before its end
            leader.kill()
            killed_in = int(minute_end - 60)
            await asyncio.sleep(minute_end + 2.0 + 4.0 - time.time())  # its grace, then the write
        finally:
            ticking.cancel()
        assert (await cluster.leader()) is not leader
        body = (await client.get(f"{worker.url}/api/v1/market-data/ohlcv/BINANCE/BTCUSDT",
                                 params={"interval": "1m", "limit": 10})).json()
        failed = (await client.get(f"{worker.url}/api/v1/quotes/status")).json()["catch_ups_failed"]
    stored = {bar["timestamp"]: bar for bar in body["bars"]}
    assert len(stored) == len(body["bars"])  # none doubled
    source = {int(row[0]): row for row in tv_simulator.market.history(TICKER, Interval.M1)}
    for minute in (killed_in - 60, killed_in):  # closed by the dead collector (its subscribe minute); by its successor
        bar = stored.get(minute)
        assert bar is not None, f"the bar of {minute} was lost: {sorted(stored)}"
        assert [bar[f] for f in ("open", "high", "low", "close", "volume")] == list(source[minute][1:6]), (minute, bar)
    assert failed == 0  # the successor's catch-up from the last stored bar
