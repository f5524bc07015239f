from dataclasses import dataclass

import structlog

from src.common.correlation import correlation_scope
from src.common.event_bus import EventBus


@dataclass(frozen=True)
class Happened:
    n: int


@dataclass(frozen=True)
class Other:
    pass


async def test_publish_delivers_to_every_sync_and_async_subscriber_of_the_type():
    bus, seen = EventBus(), []

    def sync_sub(event):
        seen.append(("sync", event.n))

    async def async_sub(event):
        seen.append(("async", event.n))

    bus.subscribe(Happened, sync_sub)
    bus.subscribe(Happened, async_sub)
    bus.subscribe(Other, lambda e: seen.append("other"))
    await bus.publish(Happened(1))
    assert seen == [("sync", 1), ("async", 1)]
    assert bus.delivered == 2


async def test_a_failing_subscriber_is_logged_and_does_not_stop_the_others():
    bus, seen = EventBus(), []

    async def failing(event):
        raise RuntimeError("subscriber broke")

    bus.subscribe(Happened, failing)
    bus.subscribe(Happened, lambda e: seen.append(e.n))
    with structlog.testing.capture_logs() as logs, correlation_scope("cid-1"):
        await bus.publish(Happened(7))
    assert seen == [7]
    assert bus.failed == 1
    failure = next(entry for entry in logs if entry["event"] == "event subscriber failed")
    assert failure["event_type"] == "Happened"
    assert "failing" in failure["subscriber"]
    assert failure["correlation_id"] == "cid-1"
    assert bus.history[-1].failed == (failure["subscriber"],)


async def test_history_keeps_the_last_fifty_events():
    bus = EventBus()
    for n in range(60):
        await bus.publish(Happened(n))
    history = bus.history
    assert len(history) == 50
    assert [h.event.n for h in history] == list(range(10, 60))
