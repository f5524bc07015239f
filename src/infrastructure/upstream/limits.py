"""`UpstreamLimiter`s: one token bucket per source, so every worker together stays within the source's limit.

The bucket holds `capacity` units and refills at `refill_per_s`, so in any window of T seconds at most
`capacity + refill_per_s * T` units start: size both from the source's own limit (the root does).
`acquire(cost)` reserves `cost` units at once (the balance may go below zero) and sleeps until they are
covered, so waiting requests start in reservation order at the refill rate. A reservation that would wait
longer than `max_wait_s`, or one while the source is blocked beyond that, spends nothing and raises
`SourceUnavailable` with the time to wait. `block(seconds)` (a 429's Retry-After, a ban) stops every worker.

`RedisUpstreamLimiter` keeps the bucket in Redis (one atomic script per request, the server's clock).
Should Redis fail, it falls back to a bucket in this process with the same figures, logged once per
outage: the service keeps working, but several workers may then together exceed the limit until Redis
returns.
"""

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from functools import cache
from pathlib import Path

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from src.common.errors import SourceUnavailable

log = structlog.get_logger("upstream.limits")
Sleep = Callable[[float], Awaitable[None]]


class Reservation:
    """One answer of a bucket: reserved or not, how long to wait for the units, how long the source is blocked."""

    __slots__ = ("blocked_for", "reserved", "wait")

    def __init__(self, reserved: bool, wait: float, blocked_for: float) -> None:
        self.reserved = reserved
        self.wait = wait
        self.blocked_for = blocked_for


class _Limiter:
    """The waiting and refusing shared by both buckets; subclasses answer `_reserve` and `_block`."""

    def __init__(self, source: str, capacity: float, refill_per_s: float, *, max_wait_s: float,
                 sleep: Sleep = asyncio.sleep) -> None:
        if capacity < 1 or refill_per_s <= 0 or max_wait_s < 0:
            raise ValueError("need capacity >= 1, refill_per_s > 0 and max_wait_s >= 0")
        self.source = source
        self.capacity = capacity
        self.refill_per_s = refill_per_s
        self.max_wait_s = max_wait_s
        self._sleep = sleep
        self.waited_s = 0.0  # total time requests spent waiting for units (a metric)

    async def acquire(self, cost: float = 1.0) -> None:
        cost = min(cost, self.capacity)
        while True:
            answer = await self._reserve(cost)
            if answer.reserved:
                await self._wait(answer.wait)
                return
            if 0 < answer.blocked_for <= self.max_wait_s:
                await self._wait(answer.blocked_for)
                continue
            wait = answer.blocked_for or answer.wait
            reason = "blocked after a refusal" if answer.blocked_for else "over its request budget"
            raise SourceUnavailable(f"{self.source} is {reason}; retry in {math.ceil(wait)}s",
                                    source=self.source, retry_after_s=wait)

    async def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self.waited_s += seconds
            await self._sleep(seconds)

    async def block(self, seconds: float) -> None:
        if seconds > 0:
            log.warning("upstream_blocked", source=self.source, seconds=round(seconds, 3))
            await self._block(seconds)

    async def _reserve(self, cost: float) -> Reservation:
        raise NotImplementedError

    async def _block(self, seconds: float) -> None:
        raise NotImplementedError


class InProcessUpstreamLimiter(_Limiter):
    """The bucket in this process: exact for one worker, and the fallback of the Redis one."""

    def __init__(self, source: str, capacity: float, refill_per_s: float, *, max_wait_s: float,
                 clock: Callable[[], float] = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        super().__init__(source, capacity, refill_per_s, max_wait_s=max_wait_s, sleep=sleep)
        self._clock = clock
        self._tokens = float(capacity)
        self._updated = clock()
        self._blocked_until = -math.inf

    def reserve(self, cost: float, now: float) -> Reservation:
        """The bucket step (the same rule as `reserve.lua`)."""
        if now > self._updated:
            self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.refill_per_s)
            self._updated = now
        blocked_for = max(self._blocked_until - now, 0.0)
        if blocked_for:
            return Reservation(False, 0.0, blocked_for)
        wait = max(cost - self._tokens, 0.0) / self.refill_per_s
        if wait > self.max_wait_s:
            return Reservation(False, wait, 0.0)
        self._tokens -= cost
        return Reservation(True, wait, 0.0)

    async def _reserve(self, cost: float) -> Reservation:
        return self.reserve(cost, self._clock())

    async def _block(self, seconds: float) -> None:
        self._blocked_until = max(self._blocked_until, self._clock() + seconds)


@cache
def _reserve_script() -> str:
    return Path(__file__).with_name("reserve.lua").read_text()


class RedisUpstreamLimiter(_Limiter):
    def __init__(self, redis: Redis, source: str, capacity: float, refill_per_s: float, *, max_wait_s: float,
                 prefix: str = "pq:upstream:", sleep: Sleep = asyncio.sleep) -> None:
        super().__init__(source, capacity, refill_per_s, max_wait_s=max_wait_s, sleep=sleep)
        self._script = redis.register_script(_reserve_script())
        self._key = f"{prefix}{source}"
        self._fallback = InProcessUpstreamLimiter(source, capacity, refill_per_s, max_wait_s=max_wait_s)
        self._failing = False
        self.fallbacks = 0  # reservations answered by the in-process fallback (a metric)

    async def _reserve(self, cost: float) -> Reservation:
        try:
            reserved, wait, blocked_for = await self._call(cost, 0.0)
        except RedisError as error:
            return self._fall_back(cost, error)
        self._failing = False
        return Reservation(bool(int(reserved)), float(wait), float(blocked_for))

    async def _block(self, seconds: float) -> None:
        await self._fallback._block(seconds)  # also here: the Redis one may be gone by the next request
        try:
            await self._call(0.0, seconds)
        except RedisError as error:
            self._warn(error)

    async def _call(self, cost: float, block: float) -> list[bytes]:
        args = (self.capacity, self.refill_per_s, cost, self.max_wait_s, block)
        result: list[bytes] = await self._script(keys=[self._key], args=args)
        return result

    def _fall_back(self, cost: float, error: RedisError) -> Reservation:
        self.fallbacks += 1
        self._warn(error)
        return self._fallback.reserve(cost, time.monotonic())

    def _warn(self, error: RedisError) -> None:
        if not self._failing:
            self._failing = True
            log.warning("upstream_limiter_redis_failed", source=self.source, error=repr(error))
