"""Mediator and EventBus overhead: median microseconds per call to trivial handlers/subscribers."""

import asyncio
import statistics
import time
from dataclasses import dataclass

from src.common.event_bus import EventBus
from src.common.mediator import Mediator


@dataclass(frozen=True, slots=True)
class _Ping:
    n: int


async def _handle(message: _Ping) -> int:
    return message.n


async def _subscriber(event: _Ping) -> None:
    return None


def _noop(event: _Ping) -> None:
    return None


async def _median_us(call, message, *, rounds: int = 15, per_round: int = 2_000) -> float:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(per_round):
            await call(message)
        samples.append((time.perf_counter() - started) / per_round * 1e6)
    return statistics.median(samples)


async def run() -> dict[str, float]:
    mediator = Mediator({_Ping: _handle})
    bus = EventBus()
    bus.subscribe(_Ping, _subscriber)
    bus.subscribe(_Ping, _subscriber)
    bus.subscribe(_Ping, _noop)
    message = _Ping(1)
    await asyncio.sleep(0)
    return {
        "mediator_send_us": round(await _median_us(mediator.send, message), 3),
        "eventbus_publish_us": round(await _median_us(bus.publish, message), 3),
    }
