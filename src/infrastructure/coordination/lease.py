"""A leader lease in Redis: one holder at a time among the processes that contend for it.

The lease is a key holding the owner's id with a TTL (`SET NX PX`). The holder renews it every third of the
TTL (a compare-and-expire script: only its own key, or the key again if it vanished while nobody took it,
as after a Redis restart without persistence); the others try to take it as often. A holder that was
killed stops renewing, so its key expires and another takes it within the TTL plus one attempt period.

A holder that cannot renew stops acting as the leader before anyone else may take the lease: at once when
the key is someone else's, and when Redis does not answer, as soon as its next attempt could not answer
before the lease expires (the last renewal + TTL). Every Redis call is bounded by `timeout_s`, so a hung
server cannot keep a lost leader acting.
"""

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from src.common.tasks import cancelled

log = structlog.get_logger("lease")

# KEYS[1] the lease, ARGV[1] the holder, ARGV[2] its time to live (ms): 1 when ARGV[1] holds it afterwards,
# renewed if it held it, taken if nobody did (also after a Redis restart without persistence).
HOLD_SCRIPT = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if holder == false then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0
"""
# Deletes the lease only if ARGV[1] still holds it: a holder whose lease lapsed never deletes another's.
RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

Callback = Callable[[], Awaitable[None]]


class RedisLease:
    def __init__(self, redis: Redis, key: str, owner: str, *, ttl_s: float, timeout_s: float) -> None:
        self.key = key
        self.owner = owner
        self.ttl_s = ttl_s
        self.timeout_s = timeout_s
        self._redis = redis
        self._ttl_ms = max(1, int(ttl_s * 1000))

    async def acquire(self) -> bool:
        async with asyncio.timeout(self.timeout_s):
            return bool(await self._redis.set(self.key, self.owner, nx=True, px=self._ttl_ms))

    async def renew(self) -> bool:
        async with asyncio.timeout(self.timeout_s):
            return bool(await self._redis.eval(HOLD_SCRIPT, 1, self.key, self.owner, self._ttl_ms))

    async def release(self) -> None:
        async with asyncio.timeout(self.timeout_s):
            await self._redis.eval(RELEASE_SCRIPT, 1, self.key, self.owner)

    async def holder(self) -> str | None:
        async with asyncio.timeout(self.timeout_s):
            value: Any = await self._redis.get(self.key)
        return None if value is None else value.decode()


class LeaseKeeper:
    """Contends for `lease` in the background: `on_acquired` runs when this process becomes the holder,
    `on_lost` when it stops being it (lost, or stopping). Both run on the keeper's task, one at a time."""

    def __init__(self, lease: RedisLease, *, on_acquired: Callback, on_lost: Callback,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._lease = lease
        self._on_acquired = on_acquired
        self._on_lost = on_lost
        self._monotonic = monotonic
        self._period_s = lease.ttl_s / 3
        self._renewed_at = 0.0
        self._task: asyncio.Task[None] | None = None
        self.held = False
        self.acquisitions = 0

    async def start(self) -> None:
        """One attempt at once (a single process is the holder when it starts serving), then in the background."""
        await self._attempt()
        self._task = asyncio.create_task(self._run(), name=f"lease {self._lease.key}")

    async def stop(self) -> None:
        await cancelled(self._task)
        self._task = None
        if self.held:
            await self._lose("stopping")
            with contextlib.suppress(RedisError, OSError, TimeoutError):
                await self._lease.release()  # the standby need not wait for the TTL

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._period_s)
            await self._attempt()

    async def _attempt(self) -> None:
        try:
            if self.held:
                if await self._lease.renew():
                    self._renewed_at = self._monotonic()
                else:
                    await self._lose("taken by another process")
            elif await self._lease.acquire():
                self._renewed_at = self._monotonic()
                self.held = True
                self.acquisitions += 1
                log.info("lease_acquired", lease=self._lease.key, owner=self._lease.owner)
                try:
                    await self._on_acquired()
                except Exception:  # the holder still holds it: what failed is retried by its own owner
                    log.exception("lease_on_acquired_failed", lease=self._lease.key)
        except (RedisError, OSError, TimeoutError) as error:
            # The next attempt could not confirm the lease before it expires: stop leading now.
            next_answer = self._monotonic() + self._period_s + self._lease.timeout_s
            if self.held and next_answer >= self._renewed_at + self._lease.ttl_s:
                await self._lose(f"not renewed: {type(error).__name__}: {error}")

    async def _lose(self, reason: str) -> None:
        self.held = False
        log.warning("lease_lost", lease=self._lease.key, owner=self._lease.owner, reason=reason)
        try:
            await self._on_lost()
        except Exception:
            log.exception("lease_on_lost_failed", lease=self._lease.key)
