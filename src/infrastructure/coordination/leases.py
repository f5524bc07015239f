"""Leases (the `Leases` port): a name held by one holder at a time until its time-to-live lapses, renewed
by its holder. In Redis for a deployment of several processes (the alerts evaluators share them), or in
this process alone.

Redis: the collector lease's scripts (`coordination.lease`): holding renews the lease or takes a free one,
releasing deletes it, each only for its holder, in one script."""

from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis

from src.infrastructure.coordination.lease import HOLD_SCRIPT, RELEASE_SCRIPT


class RedisLeases:
    def __init__(self, redis: Redis, prefix: str = "") -> None:
        self._redis = redis
        self._prefix = f"{prefix}lease:"
        self._hold: Any = redis.register_script(HOLD_SCRIPT)
        self._release: Any = redis.register_script(RELEASE_SCRIPT)

    async def hold(self, name: str, holder: str, ttl_s: float) -> bool:
        return bool(await self._hold(keys=[self._prefix + name], args=[holder, max(1, int(ttl_s * 1000))]))

    async def release(self, name: str, holder: str) -> None:
        await self._release(keys=[self._prefix + name], args=[holder])


class InProcessLeases:
    """For a single process (and tests): leases kept in memory, lapsing by `clock`."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._held: dict[str, tuple[str, float]] = {}

    async def hold(self, name: str, holder: str, ttl_s: float) -> bool:
        now = self._clock()
        current = self._held.get(name)
        if current is not None and current[0] != holder and current[1] > now:
            return False
        self._held[name] = (holder, now + ttl_s)
        return True

    async def release(self, name: str, holder: str) -> None:
        if self._held.get(name, ("", 0.0))[0] == holder:
            del self._held[name]
