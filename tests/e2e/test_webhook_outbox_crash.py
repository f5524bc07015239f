"""Issue 20: a webhook receiver down while the service process is killed (SIGKILL) still gets every delivery
afterwards, from the restarted process, through the outbox in MongoDB. Real service processes
(`python -m src.main`) on one store and the TradingView simulator."""

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
from aiohttp import web
from pymongo import AsyncMongoClient

from simulators.tradingview import TradingViewSimulator
from src.domain.market_data import Interval
from tests.e2e.service_process import ServiceProcess, start_service
from tests.fixtures.servers import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]
SERIES = [("BTCUSDT", "1m"), ("BTCUSDT", "5m"), ("BTCUSDT", "15m"), ("ETHUSDT", "1m")]


@pytest.fixture
async def sim() -> AsyncIterator[TradingViewSimulator]:
    simulator = TradingViewSimulator(history_bars=200, heartbeat_interval=1.0)
    for ticker in ("BINANCE:BTCUSDT", "BINANCE:ETHUSDT"):
        simulator.market.history(ticker, Interval.M1)
    await simulator.start("127.0.0.1", 0)
    try:
        yield simulator
    finally:
        await simulator.stop()


async def serve_receiver(port: int, received: list[tuple[dict[str, str], bytes]]) -> web.AppRunner:
    async def handle(request: web.Request) -> web.Response:
        received.append((dict(request.headers), await request.read()))
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


async def test_deliveries_pending_when_the_process_is_killed_are_sent_after_the_restart(tmp_path, sim, mongo_server):
    receiver_port = free_port()  # nothing listens there until after the crash
    database = f"outbox_{uuid.uuid4().hex[:10]}"
    env = {"MONGODB_URL": mongo_server.uri, "MONGODB_DATABASE": database, "TRADINGVIEW_WS_URL": sim.ws_url,
           "TRADINGVIEW_SEARCH_URL": sim.search_url, "WEBHOOK_URLS": json.dumps([f"http://127.0.0.1:{receiver_port}/hook"]),
           "WEBHOOK_SECRET": "outbox-secret", "WEBHOOK_MAX_ATTEMPTS": "1000", "WEBHOOK_BACKOFF_BASE_S": "0.05",
           "WEBHOOK_BACKOFF_MAX_S": "0.3", "WEBHOOK_TIMEOUT_S": "1"}
    first = start_service(tmp_path, "first", **env)
    services: list[ServiceProcess] = [first]
    client = AsyncMongoClient(mongo_server.uri)
    outbox = client[database]["webhook_outbox"]
    received: list[tuple[dict[str, str], bytes]] = []
    receiver = None
    try:
        await first.healthy()
        async with httpx.AsyncClient(base_url=first.url, timeout=30) as api:
            for symbol, interval in SERIES:
                body = {"exchange": "BINANCE", "symbol": symbol, "interval": interval, "n_bars": 50}
                assert (await api.post("/api/v1/market-data/sync", json=body)).status_code == 200
        deadline = time.monotonic() + 10
        while not ((pending := await outbox.find({}).to_list()) and all(doc["attempts"] for doc in pending)):
            assert time.monotonic() < deadline, "the deliveries were never attempted"
            await asyncio.sleep(0.05)
        assert len(pending) == len(SERIES)  # each attempted and failed: the receiver is down
        first.kill()

        receiver = await serve_receiver(receiver_port, received)
        restarted = start_service(tmp_path, "restarted", **env)
        services.append(restarted)
        await restarted.healthy()
        deadline = time.monotonic() + 30
        while len(received) < len(SERIES) or await outbox.count_documents({}):
            assert time.monotonic() < deadline, f"{len(received)} of {len(SERIES)} deliveries arrived"
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # nothing more arrives: each delivery once
        async with httpx.AsyncClient(base_url=restarted.url, timeout=30) as api:
            assert (await api.get("/api/v1/webhooks/dead-letters")).json() == []
    finally:
        for service in services:
            if service.process.poll() is None:
                service.kill()
        if receiver is not None:
            await receiver.cleanup()
        await client.drop_database(database)
        await client.close()
    assert sorted(h["X-PocketQuant-Delivery"] for h, _ in received) == sorted(doc["_id"] for doc in pending)
    delivered = [orjson.loads(body) for _, body in received]
    assert sorted((d["data"]["symbol"], d["data"]["interval"]) for d in delivered) == sorted(SERIES)
    assert all(d["type"] == "bar.synced" and d["data"]["bars_written"] == 50 for d in delivered)
