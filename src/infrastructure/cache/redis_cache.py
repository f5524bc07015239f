"""Redis cache (redis-py asyncio). A Redis outage degrades to cache misses, never to failed requests:
every Redis error is logged, counted in `.errors`, and answered as a miss (or a no-op write). redis-py's
pool reconnects on the next command once the server is back.

`get_or_set` computes once per key in this process (single flight) and, across processes, takes a short
`SET NX PX` lock so that other workers wait briefly for the value instead of computing it too.
"""

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from src.infrastructure.cache import codec
from src.infrastructure.cache.single_flight import SingleFlight

log = structlog.get_logger(__name__)

_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
_ERRORS = (RedisError, OSError, asyncio.TimeoutError)


class RedisCache:
    """`Cache` on Redis at `url`. `socket_timeout` bounds every command (seconds); `lock_seconds` is the
    cross-worker compute lock's lifetime (0 disables it) and `lock_wait` how long a worker waits for
    another's value before computing itself."""

    def __init__(
        self,
        url: str,
        *,
        socket_timeout: float = 0.5,
        lock_seconds: float = 10.0,
        lock_wait: float = 2.0,
        scan_count: int = 500,
    ) -> None:
        self._redis = Redis.from_url(
            url,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_timeout,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=0,
        )
        self._lock_seconds = lock_seconds
        self._lock_wait = lock_wait
        self._scan_count = scan_count
        self._flight = SingleFlight()
        self.hits = 0
        self.misses = 0
        self.errors = 0

    async def aclose(self) -> None:
        await self._redis.aclose()

    def _failed(self, operation: str, key: str, error: BaseException) -> None:
        self.errors += 1
        log.warning("cache_unavailable", operation=operation, key=key, error=f"{type(error).__name__}: {error}")

    async def get(self, key: str) -> Any | None:
        try:
            data = await self._redis.get(key)
        except _ERRORS as error:
            self._failed("get", key, error)
            data = None
        if data is None:
            self.misses += 1
            return None
        self.hits += 1
        return codec.decode(data if isinstance(data, bytes) else data.encode())

    async def set(self, key: str, value: Any, ttl_seconds: float) -> None:
        data = codec.encode(value)
        try:
            if ttl_seconds <= 0:
                await self._redis.delete(key)
            else:
                await self._redis.set(key, data, px=max(1, int(ttl_seconds * 1000)))
        except _ERRORS as error:
            self._failed("set", key, error)

    async def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        try:
            return int(await self._redis.delete(*keys))
        except _ERRORS as error:
            self._failed("delete", ",".join(keys), error)
            return 0

    async def delete_pattern(self, pattern: str) -> int:
        """SCAN (never KEYS) in batches, deleting as it goes."""
        deleted = 0
        try:
            batch: list[bytes] = []
            async for key in self._redis.scan_iter(match=pattern, count=self._scan_count):
                batch.append(key)
                if len(batch) >= self._scan_count:
                    deleted += int(await self._redis.unlink(*batch))
                    batch = []
            if batch:
                deleted += int(await self._redis.unlink(*batch))
        except _ERRORS as error:
            self._failed("delete_pattern", pattern, error)
        return deleted

    async def get_or_set(self, key: str, ttl_seconds: float, compute: Callable[[], Awaitable[Any]]) -> Any:
        cached = await self.get(key)
        if cached is not None:
            return cached
        return await self._flight.run(key, lambda: self._fill(key, ttl_seconds, compute))

    async def _fill(self, key: str, ttl_seconds: float, compute: Callable[[], Awaitable[Any]]) -> Any:
        token = await self._lock(key)
        if token is None:  # another worker computes it: wait a little for its value
            deadline = time.monotonic() + self._lock_wait
            while time.monotonic() < deadline:
                await asyncio.sleep(0.02)
                try:
                    data = await self._redis.get(key)
                except _ERRORS as error:
                    self._failed("get", key, error)
                    break
                if data is not None:
                    return codec.decode(data if isinstance(data, bytes) else data.encode())
        try:
            value = await compute()
            await self.set(key, value, ttl_seconds)
            return codec.decode(codec.encode(value))
        finally:
            if token:
                await self._unlock(key, token)

    async def _lock(self, key: str) -> str | None:
        """A token when this worker should compute ("" when locking is off or Redis is down)."""
        if self._lock_seconds <= 0:
            return ""
        token = uuid.uuid4().hex
        try:
            acquired = await self._redis.set(f"lock:{key}", token, nx=True, px=int(self._lock_seconds * 1000))
        except _ERRORS as error:
            self._failed("lock", key, error)
            return ""
        return token if acquired else None

    async def _unlock(self, key: str, token: str) -> None:
        try:
            await self._redis.eval(_RELEASE, 1, f"lock:{key}", token)
        except _ERRORS as error:
            self._failed("unlock", key, error)

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except _ERRORS as error:
            self._failed("ping", "", error)
            return False
