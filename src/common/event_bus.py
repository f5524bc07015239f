"""In-process EventBus: every subscriber of an event's type gets it; one failing never stops the others.

Events another process raised (delivered here by the cross-process bridge) are published with
`remote=True`: they reach every subscriber but those subscribed `local_only` (the bridge's own exporter,
so an event never goes back out, and counters of what this process did)."""

import inspect
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog

from src.common.correlation import get_correlation_id

Subscriber = Callable[[Any], Awaitable[None] | None]
log = structlog.get_logger("event_bus")


@dataclass(frozen=True, slots=True)
class PublishedEvent:
    event: Any
    delivered: int
    failed: tuple[str, ...]


def local_only[F: Callable[..., Any]](subscriber: F) -> F:
    """Marks a subscriber (a function or method) that acts on the events this process raised only."""
    subscriber.local_only = True  # type: ignore[attr-defined]
    return subscriber


class EventBus:
    def __init__(self, history_size: int = 50) -> None:
        self._subscribers: dict[type, list[tuple[Subscriber, bool, bool]]] = {}
        self._history: deque[PublishedEvent] = deque(maxlen=history_size)
        self.delivered = 0
        self.failed = 0

    def subscribe(self, event_type: type, subscriber: Subscriber, *, local_only: bool = False) -> None:
        is_async = inspect.iscoroutinefunction(subscriber) or inspect.iscoroutinefunction(
            getattr(subscriber, "__call__", None)  # noqa: B004 - callable objects with async __call__
        )
        local_only = local_only or getattr(subscriber, "local_only", False)  # or the subscriber says so itself
        self._subscribers.setdefault(event_type, []).append((subscriber, is_async, local_only))

    def subscribers(self, event_type: type) -> list[Subscriber]:
        return [s for s, _, _ in self._subscribers.get(event_type, ())]

    @property
    def history(self) -> list[PublishedEvent]:
        return list(self._history)

    async def publish(self, event: Any, *, remote: bool = False) -> None:
        delivered = 0
        failed: list[str] = []
        for subscriber, is_async, local_only in self._subscribers.get(type(event), ()):
            if remote and local_only:
                continue
            try:
                if is_async:
                    await subscriber(event)  # type: ignore[misc]
                else:
                    result = subscriber(event)
                    if inspect.isawaitable(result):
                        await result
                delivered += 1
            except Exception:
                name = getattr(subscriber, "__qualname__", repr(subscriber))
                failed.append(name)
                log.exception(
                    "event subscriber failed",
                    event_type=type(event).__name__,
                    subscriber=name,
                    correlation_id=get_correlation_id(),
                )
        self.delivered += delivered
        self.failed += len(failed)
        self._history.append(PublishedEvent(event, delivered, tuple(failed)))
