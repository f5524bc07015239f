"""The EventBus bridged through a Redis stream (real redis-server): an event one process raises reaches the
bus of every other process once, never comes back to its own, and a Redis outage never reaches the
publisher; the follower resumes after its connection drops without losing or repeating an entry."""

import asyncio
import time

import pytest
from redis.asyncio import Redis

from src.domain.events import BarCompletedEvent, BarSyncedEvent
from src.domain.indicators.events import IndicatorsUpdatedEvent
from src.domain.market_data import Interval, OHLCVBar, SeriesKey, Symbol
from tests.integration.scale_out.conftest import until

pytestmark = pytest.mark.integration

KEY = SeriesKey(Symbol("BINANCE", "BTCUSDT"), Interval.M1, "tradingview")


def completed(minute: int) -> BarCompletedEvent:
    bar = OHLCVBar(Interval.M1, 1_700_000_040 + 60 * minute, 1.0, 2.0, 0.5, 1.5, 3.0)
    return BarCompletedEvent(occurred_at=float(minute), key=KEY, bar=bar)


def record(node, event_type) -> None:
    async def on_event(event) -> None:
        node.received.append(event)
    node.bus.subscribe(event_type, on_event)


async def test_an_event_raised_in_one_process_reaches_every_other_once_and_never_comes_back(nodes):
    first, second, third = await nodes("first"), await nodes("second"), await nodes("third")
    for node in (first, second, third):
        record(node, BarCompletedEvent)
    await asyncio.sleep(0.3)  # every follower has taken its place at the stream's end
    await first.bus.publish(completed(1))
    await until(lambda: len(second.received) == 1 and len(third.received) == 1)
    await asyncio.sleep(0.5)  # time for an echo, were there one
    assert first.received == second.received == third.received == [completed(1)]
    assert (first.bridge.exported, second.bridge.exported, third.bridge.exported) == (1, 0, 0)
    assert (first.bridge.imported, second.bridge.imported) == (0, 1)


async def test_only_the_bridged_events_cross_and_a_local_only_subscriber_never_sees_a_remote_one(nodes):
    first, second = await nodes("first"), await nodes("second")
    counted: list[object] = []
    second.bus.subscribe(BarSyncedEvent, counted.append, local_only=True)
    record(second, BarSyncedEvent)
    record(second, IndicatorsUpdatedEvent)
    await asyncio.sleep(0.3)
    await first.bus.publish(IndicatorsUpdatedEvent(occurred_at=1.0, key=KEY, bar_time=0, specs=(), values={}))
    synced = BarSyncedEvent(occurred_at=2.0, key=KEY, bars_fetched=1, bars_written=1, first_bar_time=0,
                            last_bar_time=0)
    await first.bus.publish(synced)
    await until(lambda: len(second.received) == 1)
    await asyncio.sleep(0.3)
    assert second.received == [synced] and counted == []


async def test_the_follower_resumes_after_its_connection_drops_without_losing_or_repeating_an_entry(nodes, own_redis):
    first, second = await nodes("first"), await nodes("second")
    record(second, BarCompletedEvent)
    await asyncio.sleep(0.3)
    await first.bus.publish(completed(1))
    await until(lambda: len(second.received) == 1)
    admin = Redis.from_url(own_redis.url)
    try:
        await admin.client_kill_filter(_type="normal", skipme=True)  # every connection of both nodes drops
        for minute in range(2, 7):
            await first.bus.publish(completed(minute))
        await until(lambda: len(second.received) == 6)
    finally:
        await admin.aclose()
    await asyncio.sleep(0.3)
    assert second.received == [completed(minute) for minute in range(1, 7)]


async def test_publishing_while_redis_is_down_never_waits_and_the_bridge_recovers(nodes, own_redis):
    first, second = await nodes("first"), await nodes("second")
    record(second, BarCompletedEvent)
    await asyncio.sleep(0.3)
    own_redis.stop()
    try:
        started = time.perf_counter()
        for minute in range(1, 51):
            await first.bus.publish(completed(minute))
        assert time.perf_counter() - started < 0.05  # the bus only queued them
        await until(lambda: first.writer.dropped >= 1)
    finally:
        own_redis.start()
    await until(lambda: second.follower.connected, timeout_s=10)
    await first.bus.publish(completed(60))
    await until(lambda: completed(60) in second.received, timeout_s=10)
