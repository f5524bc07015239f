"""Which processes of the deployment are alive: each keeps a key `alive:<process>` with a TTL, renewed every
third of it, and keeps the keys of its own (its replies stream) expiring after it, so a dead process leaves
nothing behind. The collector releases what the WebSocket connections of a process that is gone held (their
holders are named `<process>/ws:<n>`), so a killed api worker's symbols do not stay subscribed."""

import asyncio
import contextlib
import time
from collections.abc import Iterable, Sequence

import structlog
from redis.exceptions import RedisError

from src.common.tasks import cancelled
from src.infrastructure.streams.redis_streams import RedisStreams

log = structlog.get_logger("presence")


class Presence:
    def __init__(self, streams: RedisStreams, *, prefix: str, process: str, ttl_s: float,
                 own_keys: Sequence[str] = ()) -> None:
        self._streams = streams
        self._own_keys = tuple(own_keys)
        self._prefix = prefix
        self._process = process
        self._ttl_s = ttl_s
        self._task: asyncio.Task[None] | None = None
        # Whether another process of the deployment is alive: while none is, nobody reads the live stream.
        self.others_alive = True

    def _key(self, process: str) -> str:
        return f"{self._prefix}alive:{process}"

    async def start(self) -> None:
        await self._beat()
        self._task = asyncio.create_task(self._run(), name="presence")

    async def stop(self) -> None:
        await cancelled(self._task)
        self._task = None
        with contextlib.suppress(RedisError, OSError, TimeoutError):
            await self._streams.delete(self._key(self._process))

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._ttl_s / 3)
            await self._beat()

    async def _beat(self) -> None:
        try:
            await self._streams.put(self._key(self._process), b"1", ttl_s=self._ttl_s)
            alive = await self._streams.join(f"{self._prefix}alive", self._process, now=time.time(), ttl_s=self._ttl_s)
            self.others_alive = alive > 1
            for key in self._own_keys:
                await self._streams.expire(key, ttl_s=self._ttl_s * 3)
        except (RedisError, OSError, TimeoutError) as error:
            log.debug("presence_not_renewed", error=f"{type(error).__name__}: {error}")

    async def gone(self, processes: Iterable[str]) -> set[str]:
        """Those of `processes` whose key has expired (raises when Redis does not answer)."""
        names = sorted(set(processes))
        if not names:
            return set()
        found = await self._streams.get_many([self._key(name) for name in names])
        return {name for name, value in zip(names, found, strict=True) if value is None}
