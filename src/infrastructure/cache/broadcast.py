"""`Broadcast` adapters: messages on a topic to every process of a deployment (Redis pub/sub), or to this
process's own listeners. Delivery is at most once: a process that is not subscribed when a message is
published (starting, or reconnecting after Redis was down) misses it."""

import asyncio
import contextlib
from collections.abc import Callable

import structlog
from redis.asyncio import Redis

from src.common.tasks import cancelled

log = structlog.get_logger("broadcast")
Receive = Callable[[bytes], None]
RECONNECT_MAX_S = 5.0


def _deliver(receivers: list[Receive], message: bytes) -> None:
    for receive in receivers:
        try:
            receive(message)
        except Exception:  # one listener failing never keeps the message from the others
            log.exception("broadcast_listener_failed")


class InProcessBroadcast:
    def __init__(self) -> None:
        self._listeners: dict[str, list[Receive]] = {}

    def listen(self, topic: str, receive: Receive) -> None:
        self._listeners.setdefault(topic, []).append(receive)

    async def publish(self, topic: str, message: bytes) -> None:
        _deliver(self._listeners.get(topic, []), message)


class RedisBroadcast:
    def __init__(self, redis: Redis, prefix: str = "pq:broadcast:") -> None:
        self._redis = redis
        self._prefix = prefix
        self._listeners: dict[str, list[Receive]] = {}
        self._task: asyncio.Task[None] | None = None
        self.subscribed = asyncio.Event()

    def listen(self, topic: str, receive: Receive) -> None:
        self._listeners.setdefault(self._prefix + topic, []).append(receive)

    async def publish(self, topic: str, message: bytes) -> None:
        await self._redis.publish(self._prefix + topic, message)

    async def start(self) -> None:
        if self._listeners and self._task is None:
            self._task = asyncio.create_task(self._listen(), name="broadcast-listener")
            with contextlib.suppress(TimeoutError):  # Redis down: the listener keeps trying
                async with asyncio.timeout(2.0):
                    await self.subscribed.wait()

    async def stop(self) -> None:
        await cancelled(self._task)
        self._task = None

    async def _listen(self) -> None:
        delay = 0.05
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(*self._listeners)
                async for message in pubsub.listen():
                    if message["type"] == "subscribe":
                        self.subscribed.set()
                        delay = 0.05
                    elif message["type"] == "message":
                        _deliver(self._listeners.get(_text(message["channel"]), []), message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("broadcast_listener_lost", error=f"{type(error).__name__}: {error}", retry_in_s=delay)
            finally:
                self.subscribed.clear()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_S)


def _text(channel: bytes | str) -> str:
    return channel.decode() if isinstance(channel, bytes) else channel
