"""One process of a deployment for `bench_scale_out`: bridges an EventBus to the events stream and records,
for each `BarCompletedEvent` another process raised, how long after its `occurred_at` (wall clock, shared by
the processes of this machine) its bus published it. Prints "ready" once following, then one JSON line of
latencies (ms) once `count` events came or `timeout_s` passed."""

import argparse
import asyncio
import json
import sys
import time

from redis.asyncio import Redis

from src.app.scale_out.codec import message_codec
from src.app.scale_out.events import EventBridge
from src.common.event_bus import EventBus
from src.domain.events import BarCompletedEvent
from src.infrastructure.streams.redis_streams import RedisStreams, StreamFollower, StreamWriter


async def main(redis_url: str, stream: str, count: int, timeout_s: float) -> None:
    streams = RedisStreams(Redis.from_url(redis_url, socket_timeout=2.0), timeout_s=1.0, max_length=100_000)
    writer, follower, bus = StreamWriter(streams), StreamFollower(streams), EventBus()
    EventBridge(bus, writer, follower, message_codec(), stream=stream, process="receiver").install()
    latencies: list[float] = []
    done = asyncio.Event()

    def on_completed(event: BarCompletedEvent) -> None:
        latencies.append((time.time() - event.occurred_at) * 1000)
        if len(latencies) >= count:
            done.set()

    bus.subscribe(BarCompletedEvent, on_completed)
    await writer.start()
    await follower.start()
    while not follower.entries_read and not follower.connected:  # noqa: ASYNC110 - a flag of the follower
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.7)  # a first blocking read has taken its place at the stream's end
    print("ready", flush=True)
    try:
        async with asyncio.timeout(timeout_s):
            await done.wait()
    except TimeoutError:
        pass
    await follower.stop()
    await writer.stop()
    await streams.close()
    print(json.dumps(latencies), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis", required=True)
    parser.add_argument("--stream", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=60.0)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.redis, arguments.stream, arguments.count, arguments.timeout))
    sys.exit(0)
