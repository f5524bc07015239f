"""Alerts across processes over real servers: two workers built by the root share a throwaway Redis (the shard
leases, the broadcast of alert frames) and the embedded MongoDB (mongoeco: rules, history), and both stream
the TradingView simulator's ticks. A crossing fires once — one history entry, one signed webhook, one alert
frame on the owner's WebSocket connected to the *other* worker — and when the worker that evaluates the rule
stops, the other takes its shards over and the next crossing fires once from there."""

import asyncio
import contextlib
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable

import orjson
import pytest
import redis
import uvicorn
from websockets.asyncio.client import connect

from src.app.http import http_app
from src.app.root import Root, bootstrap
from src.common.settings import Settings
from src.domain.identity import OPEN_OWNER
from src.domain.market_data import Instrument, Interval, Symbol
from src.features.alerts import messages as m
from src.features.alerts.evaluator import AlertEvaluator
from src.features.quotes.messages import SubscribeQuotesCommand
from src.infrastructure.notify.signing import verify
from tests.fixtures.webhook_receiver import Receiver

pytestmark = pytest.mark.integration

SECRET = "alerts-webhook-secret"
BTC = Symbol("BINANCE", "BTCUSDT")
ACTOR = m.AlertActor(OPEN_OWNER, sees_all=True)
T0 = (int(time.time()) // 86_400 + 2) * 86_400  # ticks stamped ahead of the simulator's snapshot


async def until(predicate: Callable[[], object], within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 - polling state owned by other tasks
            await asyncio.sleep(0.01)


def evaluator(root: Root) -> AlertEvaluator:
    evaluator: AlertEvaluator = root.slices["alerts"].exposed["evaluator"]
    return evaluator


@pytest.fixture
async def workers(tv_simulator, mongo_server, redis_server, receiver) -> AsyncIterator[list[Root]]:
    redis.Redis.from_url(redis_server.url).flushdb()
    settings = Settings(
        mongodb_url=mongo_server.uri, mongodb_database=f"alerts_{uuid.uuid4().hex[:10]}", redis_url=redis_server.url,
        tradingview_ws_url=tv_simulator.ws_url, tradingview_search_url=tv_simulator.search_url,
        tradingview_signin_url=tv_simulator.signin_url, tradingview_timeout_s=5.0,
        tradingview_requests_per_s=1_000.0, scheduler_enabled=False, rate_limit_enabled=False,
        live_bar_intervals=["1m"], webhook_urls=[receiver.url], webhook_secret=SECRET,
        alerts_refresh_s=0.1, alerts_lease_ttl_s=1.0, alerts_flush_s=0.1,
    )
    roots = [bootstrap(settings), bootstrap(settings)]
    for root in roots:
        await root.lifecycle.start()
    try:
        yield roots
    finally:
        for root in roots:
            await root.lifecycle.stop()


@contextlib.asynccontextmanager
async def served(root: Root) -> AsyncIterator[str]:
    """The root's HTTP app on a free port (its lifecycle is the fixture's); yields the WebSocket URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(http_app(root), log_config=None, access_log=False, lifespan="off",
                                           ws_ping_interval=None))
    task = asyncio.create_task(server.serve(sockets=[listener]))
    await until(lambda: server.started or task.done())
    try:
        yield f"ws://127.0.0.1:{listener.getsockname()[1]}/api/v1/ws/quotes"
    finally:
        server.should_exit = True
        await task
        listener.close()


async def crossing(sim, offset: float) -> None:
    await sim.push_tick(BTC.ticker, 99.0, 1.0, when=T0 + offset)
    await asyncio.sleep(0.3)
    await sim.push_tick(BTC.ticker, 101.0, 2.0, when=T0 + offset + 1)


def alert_deliveries(receiver: Receiver) -> list[dict]:
    found = []
    for headers, body in receiver.received:
        if headers["X-PocketQuant-Event"] == "alert.triggered":
            assert verify(SECRET.encode(), headers["X-PocketQuant-Timestamp"], body,
                          headers["X-PocketQuant-Signature"], now=time.time())
            found.append(orjson.loads(body)["data"])
    return found


async def test_two_workers_fire_each_crossing_once_and_the_survivor_takes_over(workers, tv_simulator, receiver):
    first, second = workers
    instrument = Instrument("tradingview", BTC)
    for root in workers:  # both stream the symbol: both see every tick
        await root.mediator.send(SubscribeQuotesCommand((instrument,), (Interval.M1,)))
    created = await second.mediator.send(m.CreateAlertCommand(ACTOR, m.AlertSettings(
        "tradingview", BTC, {"kind": "price_crosses", "level": 100.0, "direction": "up"},
        channels=("webhook", "log", "websocket"))))
    rule_id = created.rule.id
    await until(lambda: any(rule_id in evaluator(root).book for root in workers))
    [holder] = [root for root in workers if rule_id in evaluator(root).book]  # exactly one evaluates it
    survivor = second if holder is first else first

    async with served(survivor) as ws_url, connect(ws_url) as ws:  # the owner's socket, on the other worker
        await crossing(tv_simulator, 10)
        async with asyncio.timeout(10):
            frame = orjson.loads(await ws.recv())
        assert frame["type"] == "alert" and frame["rule_id"] == rule_id and frame["trigger_count"] == 1
        await receiver.wait_for(1)
        await asyncio.sleep(0.5)  # time for a second delivery or frame, were there one
        await ws.send('{"action": "ping"}')
        assert orjson.loads(await ws.recv()) == {"type": "pong"}
    [delivered] = alert_deliveries(receiver)
    assert delivered["rule_id"] == rule_id and delivered["values"] == {"price": 101.0, "level": 100.0}
    history = await holder.mediator.send(m.ListAlertTriggersQuery(ACTOR, rule_id))
    assert [t.trigger_count for t in history] == [1]

    await holder.lifecycle.stop()  # releases its leases: the survivor takes the shards on its next refresh
    await until(lambda: rule_id in evaluator(survivor).book)
    await crossing(tv_simulator, 20)
    await until(lambda: len(alert_deliveries(receiver)) == 2)
    await asyncio.sleep(0.5)
    assert [d["trigger_count"] for d in alert_deliveries(receiver)] == [1, 2]
    history = await survivor.mediator.send(m.ListAlertTriggersQuery(ACTOR, rule_id))
    assert [t.trigger_count for t in history] == [2, 1]
