"""Webhooks through real HTTP: a local aiohttp receiver gets signed deliveries, retries, dead letters."""

import asyncio
import time

import httpx
import orjson

from src.domain.events import BarSyncedEvent
from src.infrastructure.notify.signing import verify
from src.infrastructure.notify.webhooks import WebhookDispatcher
from tests.fakes import FakeDeadLetterRepository
from tests.fixtures.webhook_receiver import Receiver

from .conftest import BAR_KEY

SECRET = "s3cret"


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


async def test_stop_cancels_pending_deliveries_after_the_drain_timeout(receiver):
    receiver.delay_s = 1.0
    dispatcher = WebhookDispatcher([receiver.url], secret=b"k", drain_timeout_s=0.1,
                                   dead_letters=FakeDeadLetterRepository())
    await dispatcher.start()
    dispatcher.send("bar.synced", {"n": 1}, occurred_at=1.0, correlation_id="wh-stop")
    await receiver.wait_for(1)
    started = time.monotonic()
    await dispatcher.stop()
    assert time.monotonic() - started < 1.0
    assert dispatcher.pending == 0
    [letter] = await dispatcher.dead_letters.list()
    assert letter.error == "cancelled at shutdown"


async def test_stop_waits_for_deliveries_that_finish_in_time(receiver):
    receiver.delay_s = 0.1
    dispatcher = WebhookDispatcher([receiver.url], secret=b"k", drain_timeout_s=2,
                                   dead_letters=FakeDeadLetterRepository())
    await dispatcher.start()
    dispatcher.send("bar.synced", {"n": 1}, occurred_at=1.0, correlation_id="wh-drain")
    await dispatcher.stop()
    assert len(receiver.received) == 1
    assert await dispatcher.dead_letters.list() == []


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
