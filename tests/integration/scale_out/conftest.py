"""Processes of one deployment, simulated in one event loop: each `Node` has its own EventBus and its own
Redis clients, as a separate process would."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from redis.asyncio import Redis

from src.app.scale_out.codec import message_codec
from src.app.scale_out.events import EventBridge
from src.common.event_bus import EventBus
from src.infrastructure.streams.redis_streams import RedisStreams, StreamFollower, StreamWriter


@dataclass
class Node:
    name: str
    bus: EventBus
    streams: RedisStreams
    writer: StreamWriter
    follower: StreamFollower
    bridge: EventBridge
    received: list[tuple[object, bool]] = field(default_factory=list)  # (event, remote)

    async def stop(self) -> None:
        await self.follower.stop()
        await self.writer.stop()
        await self.streams.close()


def streams_on(url: str, *, timeout_s: float = 0.5, max_length: int = 1_000) -> RedisStreams:
    return RedisStreams(Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=timeout_s),
                        timeout_s=timeout_s, max_length=max_length, block_s=0.2)


@pytest.fixture
async def nodes(own_redis) -> AsyncIterator[Callable[[str], "asyncio.Future[Node]"]]:
    started: list[Node] = []
    stream = f"test:{uuid.uuid4().hex[:8]}:events"

    async def node(name: str) -> Node:
        streams = streams_on(own_redis.url)
        writer, follower = StreamWriter(streams, retry_s=0.1), StreamFollower(streams, retry_s=0.1)
        bus = EventBus()
        bridge = EventBridge(bus, writer, follower, message_codec(), stream=stream, process=name)
        bridge.install()
        await writer.start()
        await follower.start()
        started.append(made := Node(name, bus, streams, writer, follower, bridge))
        return made

    yield node  # type: ignore[misc]
    for made in started:
        await made.stop()


async def until(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():  # noqa: ASYNC110 - polled: the conditions are plain attributes of other tasks
            await asyncio.sleep(0.01)
