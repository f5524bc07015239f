"""Webhooks through real HTTP: a local aiohttp receiver gets signed deliveries, retries, dead letters."""

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import orjson
import pytest
from aiohttp import web

from src.common.ports import DeadLetter
from src.common.redaction import redact_url
from src.domain.events import BarSyncedEvent
from src.infrastructure.mongo.dead_letter_repository import MongoDeadLetterStore
from src.infrastructure.mongo.webhook_outbox import MongoWebhookOutbox
from src.infrastructure.notify.signing import verify
from src.infrastructure.notify.webhooks import WebhookDispatcher
from tests.fixtures.servers import free_port

from .conftest import BAR_KEY

SECRET = "s3cret"


@dataclass
class Receiver:
    """Answers with `statuses` in turn (the last one repeats); sleeps `delay_s` before answering."""

    url: str = ""
    statuses: list[int] = field(default_factory=lambda: [200])
    delay_s: float = 0.0
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((dict(request.headers), await request.read()))
        await asyncio.sleep(self.delay_s)
        status = self.statuses[min(len(self.received), len(self.statuses)) - 1]
        return web.Response(status=status)

    async def wait_for(self, n: int, timeout_s: float = 5.0) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.received) < n:
            assert time.monotonic() < deadline, f"{len(self.received)} of {n} deliveries arrived"
            await asyncio.sleep(0.01)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    receiver.url = f"http://127.0.0.1:{port}/hook"
    yield receiver
    await runner.cleanup()


def start(edge_server, receiver: Receiver, **overrides):
    settings = {
        "webhook_urls": [receiver.url], "webhook_secret": SECRET, "webhook_backoff_base_s": 0.02,
        "webhook_max_attempts": 3, "webhook_timeout_s": 1.0, **overrides,
    }
    return edge_server(**settings)[0]


async def publish(server, correlation_id: str = "wh-1") -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, timeout=5) as client:
        return await client.post("/test/publish", headers={"X-Correlation-ID": correlation_id})


async def test_deliveries_are_signed_and_carry_the_correlation_id(edge_server, receiver):
    server = start(edge_server, receiver)
    await publish(server, "wh-signed")
    await receiver.wait_for(2)
    by_type = {h["X-PocketQuant-Event"]: (h, body) for h, body in receiver.received}
    assert set(by_type) == {"bar.synced", "bar.completed"}
    for headers, body in by_type.values():
        assert headers["Content-Type"] == "application/json"
        assert headers["X-Correlation-ID"] == "wh-signed"
        ts = headers["X-PocketQuant-Timestamp"]
        assert verify(SECRET.encode(), ts, body, headers["X-PocketQuant-Signature"], now=time.time())
        assert not verify(b"wrong", ts, body, headers["X-PocketQuant-Signature"], now=time.time())
        assert orjson.loads(body)["id"] == headers["X-PocketQuant-Delivery"]
    synced = orjson.loads(by_type["bar.synced"][1])
    assert synced["correlation_id"] == "wh-signed"
    assert synced["data"] == {
        "source": "tradingview", "exchange": "BINANCE", "symbol": "BTCUSDT", "interval": "1m", "bars_fetched": 3,
        "bars_written": 2, "first_bar_time": "1970-01-01T00:01:00Z", "first_bar_timestamp": 60,
        "last_bar_time": "1970-01-01T00:03:00Z", "last_bar_timestamp": 180,
    }
    assert (synced["occurred_at"], synced["occurred_at_timestamp"]) == ("1970-01-01T00:00:01Z", 1.0)
    completed = orjson.loads(by_type["bar.completed"][1])
    assert completed["data"]["bar"] == {"time": "1970-01-01T00:02:00Z", "timestamp": 120, "open": 1.0,
                                        "high": 2.0, "low": 0.5, "close": 1.5, "volume": 10.0, "partial": False}


async def test_failures_are_retried_until_delivered(edge_server, receiver):
    receiver.statuses = [500, 503, 200, 200]
    server = start(edge_server, receiver, webhook_max_attempts=4)
    await server_publish_one(server)
    await receiver.wait_for(3)
    await asyncio.sleep(0.1)
    assert len(receiver.received) == 3
    assert len({h["X-PocketQuant-Delivery"] for h, _ in receiver.received}) == 1
    assert len({h["X-PocketQuant-Signature"] for h, _ in receiver.received}) >= 1
    async with httpx.AsyncClient() as client:
        text = (await client.get(server.url + "/metrics")).text
    assert 'webhook_deliveries_total{outcome="retried"} 2.0' in text
    assert 'webhook_deliveries_total{outcome="delivered"} 1.0' in text
    assert await server_dead_letters(server) == []


async def test_last_failure_is_a_dead_letter(edge_server, receiver):
    receiver.statuses = [500]
    server = start(edge_server, receiver)
    await server_publish_one(server, "wh-dead")
    await receiver.wait_for(3)
    deadline = time.monotonic() + 5
    while not (letters := await server_dead_letters(server)):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    assert len(receiver.received) == 3
    [letter] = letters
    assert (letter.url, letter.attempts, letter.error) == (receiver.url, 3, "HTTP 500")
    assert letter.event_type == "bar.synced"
    assert letter.correlation_id == "wh-dead"


async def test_permanent_4xx_is_not_retried(edge_server, receiver):
    receiver.statuses = [410]
    server = start(edge_server, receiver)
    await server_publish_one(server)
    await receiver.wait_for(1)
    await asyncio.sleep(0.2)
    assert len(receiver.received) == 1
    [letter] = await server_dead_letters(server)
    assert letter.attempts == 1


async def test_slow_receiver_never_blocks_the_request(edge_server, receiver):
    receiver.delay_s = 0.8
    server = start(edge_server, receiver)
    started = time.monotonic()
    response = await publish(server)
    assert response.status_code == 200
    assert time.monotonic() - started < 0.5
    await receiver.wait_for(2)


async def test_timeouts_are_retried(edge_server, receiver):
    receiver.delay_s = 0.5
    server = start(edge_server, receiver, webhook_timeout_s=0.1, webhook_max_attempts=2)
    await server_publish_one(server)
    await receiver.wait_for(2)
    deadline = time.monotonic() + 5
    while not (letters := await server_dead_letters(server)):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    assert letters[0].attempts == 2
    assert "Timeout" in letters[0].error


def dispatcher_on(mongo_db, receiver: Receiver, **options) -> WebhookDispatcher:
    settings = {"secret": b"k", "backoff_base_s": 0.02, "max_attempts": 3, "timeout_s": 1.0, **options}
    return WebhookDispatcher([receiver.url], outbox=MongoWebhookOutbox(mongo_db),
                             dead_letters=MongoDeadLetterStore(mongo_db), **settings)


async def test_stop_cancels_attempts_after_the_drain_timeout_and_leaves_them_in_the_outbox(mongo_db, receiver):
    receiver.delay_s = 1.0
    dispatcher = dispatcher_on(mongo_db, receiver, drain_timeout_s=0.1)
    await dispatcher.start()
    await dispatcher.send("bar.synced", {"n": 1}, occurred_at=1.0, correlation_id="wh-stop")
    await receiver.wait_for(1)
    started = time.monotonic()
    await dispatcher.stop()
    assert time.monotonic() - started < 1.0
    assert dispatcher.in_flight == 0 and await dispatcher.dead_letters.list() == []
    [left] = await dispatcher.outbox.claim_due("next-process", time.time(), 10, limit=5)  # released: due at once
    assert left.correlation_id == "wh-stop"
    assert left.delivery_id == receiver.received[0][0]["X-PocketQuant-Delivery"]


async def test_stop_waits_for_deliveries_that_finish_in_time(mongo_db, receiver):
    receiver.delay_s = 0.1
    dispatcher = dispatcher_on(mongo_db, receiver, drain_timeout_s=2)
    await dispatcher.start()
    await dispatcher.send("bar.synced", {"n": 1}, occurred_at=1.0, correlation_id="wh-drain")
    await receiver.wait_for(1)
    await dispatcher.stop()
    assert len(receiver.received) == 1
    assert await dispatcher.dead_letters.list() == [] and await dispatcher.outbox.pending() == 0


async def test_a_delivery_is_written_before_any_attempt_and_sent_once_a_dispatcher_runs(mongo_db, receiver):
    idle = dispatcher_on(mongo_db, receiver)  # not started: nothing is attempted
    await idle.send("bar.synced", {"n": 1}, occurred_at=1.0, correlation_id="wh-later")
    assert await idle.outbox.pending() == 1 and receiver.received == []
    running = dispatcher_on(mongo_db, receiver)
    await running.start()
    try:
        await receiver.wait_for(1)
    finally:
        await running.stop()
    assert orjson.loads(receiver.received[0][1])["correlation_id"] == "wh-later"
    assert await running.outbox.pending() == 0


async def test_two_dispatchers_on_one_outbox_deliver_each_delivery_once(mongo_db, receiver):
    dispatchers = [dispatcher_on(mongo_db, receiver, poll_s=0.05) for _ in range(2)]
    for dispatcher in dispatchers:
        await dispatcher.start()
    try:
        for n in range(40):
            await dispatchers[n % 2].send("bar.synced", {"n": n}, occurred_at=1.0, correlation_id=f"wh-{n}")
        await receiver.wait_for(40)
        await asyncio.sleep(0.3)
    finally:
        for dispatcher in dispatchers:
            await dispatcher.stop()
    ids = [headers["X-PocketQuant-Delivery"] for headers, _ in receiver.received]
    assert len(ids) == len(set(ids)) == 40
    assert sorted(orjson.loads(body)["data"]["n"] for _, body in receiver.received) == list(range(40))


async def test_a_dead_letter_redelivered_over_http_reaches_the_receiver_with_its_id(edge_server, receiver):
    receiver.statuses = [500, 500, 500, 200]
    server = start(edge_server, receiver)
    await server_publish_one(server, "wh-again")
    deadline = time.monotonic() + 5
    while not (letters := await server_dead_letters(server)):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    [letter] = letters
    async with httpx.AsyncClient(base_url=server.url, timeout=5) as client:
        missing = await client.post(f"/api/v1/webhooks/dead-letters/{'0' * 32}/redeliver")
        assert missing.status_code == 404
        queued = await client.post(f"/api/v1/webhooks/dead-letters/{letter.delivery_id}/redeliver")
        assert queued.status_code == 202 and queued.json()["delivery_id"] == letter.delivery_id
        await receiver.wait_for(4)
        assert (await client.get("/api/v1/webhooks/dead-letters")).json() == []
    headers, body = receiver.received[-1]
    assert headers["X-PocketQuant-Delivery"] == letter.delivery_id and body == letter.body


async def test_redeliver_all_queues_the_letters_of_configured_urls_and_keeps_the_others(edge_server, receiver):
    server = start(edge_server, receiver)
    dead_letters = server.root.core.dead_letters
    letters = [DeadLetter(f"{n:032x}", receiver.url, "bar.synced", orjson.dumps({"n": n}), 3, "HTTP 500", None,
                          float(n)) for n in range(3)]
    gone = DeadLetter("f" * 32, "http://127.0.0.1:9/removed", "bar.synced", b"{}", 3, "HTTP 500", None, 9.0)
    for letter in (*letters, gone):
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(dead_letters.add(letter), server.loop))
    async with httpx.AsyncClient(base_url=server.url, timeout=5) as client:
        conflict = await client.post(f"/api/v1/webhooks/dead-letters/{gone.delivery_id}/redeliver")
        assert conflict.status_code == 409
        report = await client.post("/api/v1/webhooks/dead-letters/redeliver")
        assert report.status_code == 202 and report.json() == {"redelivered": 3, "not_redelivered": 1}
        await receiver.wait_for(3)
        left = (await client.get("/api/v1/webhooks/dead-letters")).json()
    assert [letter["delivery_id"] for letter in left] == [gone.delivery_id]
    assert sorted(orjson.loads(body)["n"] for _, body in receiver.received) == [0, 1, 2]


# --- helpers ----------------------------------------------------------------------------------------


def synced_event(correlation_id: str) -> BarSyncedEvent:
    return BarSyncedEvent(occurred_at=1.0, correlation_id=correlation_id, key=BAR_KEY, bars_fetched=1,
                          bars_written=1, first_bar_time=60, last_bar_time=60)


async def server_publish_one(server, correlation_id: str = "wh-1") -> None:
    """Publish one BarSyncedEvent on the server's loop (one delivery per URL)."""
    bus = server.root.event_bus
    await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(bus.publish(synced_event(correlation_id)), server.loop))


async def server_dead_letters(server) -> list:
    store = server.root.core.dead_letters
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(store.list(), server.loop))


async def test_a_dead_letter_of_a_url_with_credentials_is_redelivered_to_the_configured_url(mongo_db, receiver):
    url = receiver.url.replace("http://", "http://hook-user:hook-pass@")
    dispatcher = WebhookDispatcher([url], secret=b"k", outbox=MongoWebhookOutbox(mongo_db),
                                   dead_letters=MongoDeadLetterStore(mongo_db))
    letter = DeadLetter("a" * 32, redact_url(url), "bar.synced", b'{"n": 1}', 3, "HTTP 500", "wh-cred", 1.0)
    assert "hook-pass" not in letter.url
    assert await dispatcher.redeliver(letter)
    assert not await dispatcher.redeliver(DeadLetter("b" * 32, "http://elsewhere/hook", "bar.synced", b"{}", 3,
                                                     "HTTP 500", None, 1.0))
    await dispatcher.start()
    try:
        await receiver.wait_for(1)
    finally:
        await dispatcher.stop()
    headers, body = receiver.received[0]
    assert headers["Authorization"].startswith("Basic ") and body == b'{"n": 1}'
    assert headers["X-PocketQuant-Delivery"] == "a" * 32
