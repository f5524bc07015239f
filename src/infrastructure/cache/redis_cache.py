"""Redis cache (redis-py asyncio). A Redis outage degrades to cache misses, never to failed requests:
every Redis error is logged, counted in `.errors`, and answered as a miss (or a no-op write). redis-py's
pool reconnects on the next command once the server is back.

`get_or_set` computes once per key in this process (single flight) and, across processes, takes a short
`SET NX PX` lock so that other workers wait briefly for the value instead of computing it too.

Near cache: keys under `near_prefixes` are also kept in a bounded in-process LRU (`NearCache`), served
without a Redis round trip. Every `set`/`delete`/`delete_pattern` of such keys drops them locally and
publishes the key or pattern on `INVALIDATION_CHANNEL` (in the same MULTI as the write, for keys); every
worker's listener (`start()`) drops them on receipt. The near cache is used only while that subscription
is confirmed and answering a heartbeat; it is cleared whenever the subscription is (re)established or
lost, since invalidations may have been missed. An L1 entry expires no later than its Redis key: the
remaining TTL comes with the value (GET + PTTL in one MULTI).
"""

import asyncio
import contextlib
import hashlib
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import orjson
import structlog
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import NoScriptError, RedisError

from src.common.correlation import spawn_detached
from src.infrastructure.cache import codec
from src.infrastructure.cache.near_cache import NearCache
from src.infrastructure.cache.single_flight import SingleFlight
from src.infrastructure.observability.throttled import ThrottledWarning

log = structlog.get_logger(__name__)

INVALIDATION_CHANNEL = "pq:cache:invalidate"
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
# SET a computed value only if its series' generation is still the one read before computing.
# KEYS: value, generation. ARGV: expected generation ('' if none), data, px, channel, message ('' if none).
_SET_IF_GENERATION = """
if (redis.call('GET', KEYS[2]) or '') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
if ARGV[5] ~= '' then redis.call('PUBLISH', ARGV[4], ARGV[5]) end
return 1
"""
GENERATION_TTL_MS = 7 * 86_400 * 1000
SET_MANY_BATCH = 512  # keys per round trip of `set_many`
# SET each KEYS[i] to ARGV[2i-1] for ARGV[2i] ms (DEL when 0): a batch of `set_many` in one command.
_SET_MANY = """
for i = 1, #KEYS do
  local px = tonumber(ARGV[2 * i])
  if px > 0 then redis.call('SET', KEYS[i], ARGV[2 * i - 1], 'PX', px) else redis.call('DEL', KEYS[i]) end
end
return #KEYS
"""
_SET_MANY_SHA = hashlib.sha1(_SET_MANY.encode()).hexdigest()  # outlives every cached value it guards
_ERRORS = (RedisError, OSError, asyncio.TimeoutError)


class RedisCache:
    """`Cache` on the shared `redis` client. `socket_timeout` is the client's command timeout (seconds), used
    to bound the near cache's liveness; `lock_seconds` is the
    cross-worker compute lock's lifetime (0 disables it) and `lock_wait` how long a worker waits for
    another's value before computing itself. `near_prefixes` (empty: no near cache) names the keys also
    cached in this process, within `near_max_entries` and `near_max_bytes`; `near_heartbeat_s` is how often
    the listener pings its subscription, and `near_reconnect_max_s` caps its reconnect backoff."""

    def __init__(
        self,
        redis: Redis,
        *,
        socket_timeout: float = 0.5,
        lock_seconds: float = 10.0,
        lock_wait: float = 2.0,
        scan_count: int = 500,
        near_prefixes: tuple[str, ...] = (),
        near_max_entries: int = 1000,
        near_max_bytes: int = 64 * 1024 * 1024,
        near_heartbeat_s: float = 1.0,
        near_reconnect_max_s: float = 5.0,
        generation_of: Callable[[str], str | None] = lambda _: None,
    ) -> None:
        self._redis = redis  # shared; its owner closes it
        self._socket_timeout = socket_timeout
        self._lock_seconds = lock_seconds
        self._lock_wait = lock_wait
        self._scan_count = scan_count
        self._flight = SingleFlight()
        self._generation_of = generation_of
        self._near = NearCache(near_prefixes, max_entries=near_max_entries, max_bytes=near_max_bytes)
        self._near_heartbeat_s = near_heartbeat_s
        # Silence longer than this (no message, no pong) and the near cache is bypassed, even before the
        # listener notices: bounds how long a half-open subscription could let stale entries be served.
        self._near_liveness_s = 2 * near_heartbeat_s + socket_timeout
        self._near_reconnect_max_s = near_reconnect_max_s
        self._near_subscribed = False
        self._near_last_seen = 0.0
        self._listener: asyncio.Task[None] | None = None
        self._instance = uuid.uuid4().hex  # our own invalidations come back to us: already applied
        self._unavailable = ThrottledWarning(log, "cache_unavailable")  # an outage fails every request's lookups
        self.hits = 0
        self.near_hits = 0
        self.misses = 0
        self.errors = 0

    async def start(self) -> None:
        """Start listening for invalidations (the near cache stays bypassed until subscribed). Never fails
        on a Redis outage: the listener keeps retrying in the background."""
        if self._near.enabled and self._listener is None:
            self._listener = spawn_detached(self._listen(), name="cache-invalidation-listener")

    async def aclose(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None

    @property
    def near_active(self) -> bool:
        """Whether the near cache is in use now: subscribed, and the subscription heard from recently."""
        return self._near_subscribed and time.monotonic() - self._near_last_seen <= self._near_liveness_s

    def _failed(self, operation: str, key: str, error: BaseException) -> None:
        self.errors += 1
        self._unavailable.warn(operation=operation, key=key, error=f"{type(error).__name__}: {error}")

    async def get(self, key: str) -> Any | None:
        if self._near.covers(key) and self.near_active:
            near = self._near.get_value(key, codec.decode)
            if near is not None:
                self.hits += 1
                self.near_hits += 1
                return near
            data = await self._load(key)
        else:
            data = await self._read(key)
        if data is None:
            self.misses += 1
            return None
        self.hits += 1
        return codec.decode(data)

    async def _read(self, key: str) -> bytes | None:
        try:
            data = await self._redis.get(key)
        except _ERRORS as error:
            self._failed("get", key, error)
            return None
        return _as_bytes(data)

    async def _load(self, key: str) -> bytes | None:
        """GET with the remaining TTL in one round trip, kept near unless invalidated meanwhile."""
        epoch, sent = self._near.epoch, time.monotonic()
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.get(key)
                pipe.pttl(key)
                raw, ttl_ms = await pipe.execute()
        except _ERRORS as error:
            self._failed("get", key, error)
            return None
        data = _as_bytes(raw)
        if data is not None and ttl_ms > 0 and self.near_active:  # -1 (no expiry) is never kept near
            self._near.put(key, data, sent + ttl_ms / 1000, epoch)
        return data

    async def set(self, key: str, value: Any, ttl_seconds: float) -> None:
        await self._write(key, codec.encode(value), ttl_seconds)
        if self._near.covers(key):
            self._near.invalidate_keys([key])

    async def _write(self, key: str, data: bytes, ttl_seconds: float) -> bool:
        """SET (or DEL when `ttl_seconds` <= 0) with, for a near-cached key, its invalidation in the same
        MULTI. Whether it succeeded."""
        try:
            async with self._redis.pipeline(transaction=self._near.covers(key)) as pipe:
                if ttl_seconds <= 0:
                    pipe.delete(key)
                else:
                    pipe.set(key, data, px=max(1, int(ttl_seconds * 1000)))
                if self._near.covers(key):
                    pipe.publish(INVALIDATION_CHANNEL, self._message(keys=[key]))
                await pipe.execute()
        except _ERRORS as error:
            self._failed("set", key, error)
            return False
        return True

    async def set_many(self, entries: Sequence[tuple[str, Any, float]]) -> int:
        """One pipeline, one round trip: a `_SET_MANY` script call per `SET_MANY_BATCH` keys (one command and
        one reply each, where per-key SETs cost the client a command to pack and a reply to parse per key).
        A near-cached key goes the way of `set`, with its invalidation. Returns how many were not written."""
        far: list[tuple[str, Any, float]] = []
        near: list[tuple[str, Any, float]] = []
        for entry in entries:
            (near if self._near.covers(entry[0]) else far).append(entry)
        batches = [far[start:start + SET_MANY_BATCH] for start in range(0, len(far), SET_MANY_BATCH)]
        failed = await self._set_batches(batches) if batches else 0
        for key, value, ttl_seconds in near:
            failed += not await self._write(key, codec.encode(value), ttl_seconds)
            self._near.invalidate_keys([key])
        return failed

    async def _set_batches(self, batches: list[list[tuple[str, Any, float]]]) -> int:
        try:
            results = await self._pipeline_set_many(batches)
            if any(isinstance(result, NoScriptError) for result in results):  # a restarted or flushed Redis
                await self._redis.script_load(_SET_MANY)
                results = await self._pipeline_set_many(batches)
        except _ERRORS as error:
            self._failed("set_many", batches[0][0][0], error)
            return sum(len(batch) for batch in batches)
        errors = [(batch, result) for batch, result in zip(batches, results, strict=True)
                  if isinstance(result, Exception)]
        if errors:
            self._failed("set_many", errors[0][0][0][0], errors[0][1])
        return sum(len(batch) for batch, _ in errors)

    async def _pipeline_set_many(self, batches: list[list[tuple[str, Any, float]]]) -> list[Any]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for batch in batches:
                args: list[bytes | int] = []
                for _, value, ttl_seconds in batch:
                    args += (codec.encode(value), max(1, int(ttl_seconds * 1000)) if ttl_seconds > 0 else 0)
                pipe.evalsha(_SET_MANY_SHA, len(batch), *(key for key, _, _ in batch), *args)
            return list(await pipe.execute(raise_on_error=False))

    async def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        near = [k for k in keys if self._near.covers(k)]
        try:
            async with self._redis.pipeline(transaction=bool(near)) as pipe:
                pipe.delete(*keys)
                if near:
                    pipe.publish(INVALIDATION_CHANNEL, self._message(keys=near))
                deleted = int((await pipe.execute())[0])
        except _ERRORS as error:
            self._failed("delete", ",".join(keys), error)
            deleted = 0
        if near:
            self._near.invalidate_keys(near)
        return deleted

    async def delete_pattern(self, pattern: str) -> int:
        """SCAN (never KEYS) in batches, deleting as it goes; then, if near-cached keys may match, the
        pattern is published (attempted even when the scan failed half way). The series' generation is
        bumped first, so values being computed from the store before this point are not cached."""
        deleted = 0
        if generation := self._generation_of(pattern):
            try:
                async with self._redis.pipeline(transaction=True) as pipe:
                    pipe.incr(generation)
                    pipe.pexpire(generation, GENERATION_TTL_MS)
                    await pipe.execute()
            except _ERRORS as error:
                self._failed("generation", generation, error)
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
        if self._near.may_match(pattern):
            try:
                await self._redis.publish(INVALIDATION_CHANNEL, self._message(pattern=pattern))
            except _ERRORS as error:
                self._failed("publish", pattern, error)
            self._near.invalidate_pattern(pattern)
        return deleted

    async def get_or_set(self, key: str, ttl_seconds: float, compute: Callable[[], Awaitable[Any]]) -> Any:
        cached = await self.get(key)
        if cached is not None:
            return cached
        return await self._flight.run(key, lambda: self._fill(key, ttl_seconds, compute))

    async def _fill(self, key: str, ttl_seconds: float, compute: Callable[[], Awaitable[Any]]) -> Any:
        epoch = self._near.epoch  # before computing: an invalidation while we compute keeps it out of L1
        token = await self._lock(key)
        if token is None:  # another worker computes it: wait a little for its value
            deadline = time.monotonic() + self._lock_wait
            while time.monotonic() < deadline:
                await asyncio.sleep(0.02)
                try:
                    waited = await self._redis.get(key)
                except _ERRORS as error:
                    self._failed("get", key, error)
                    break
                if waited is not None:
                    return codec.decode(waited if isinstance(waited, bytes) else waited.encode())
        try:
            generation = self._generation_of(key)
            expected = await self._read_generation(generation) if generation else None
            data = codec.encode(await compute())
            sent = time.monotonic()
            if generation is None:
                stored = await self._write(key, data, ttl_seconds)
            else:
                stored = expected is not None and await self._write_if(key, data, ttl_seconds, generation, expected)
            if self._near.covers(key):
                keep = stored and epoch == self._near.epoch and self.near_active
                self._near.invalidate_keys([key])  # as any write does: readers in flight must not keep theirs
                if keep and ttl_seconds > 0:
                    self._near.put(key, data, sent + ttl_seconds, self._near.epoch)
            return codec.decode(data)
        finally:
            if token:
                await self._unlock(key, token)

    async def _read_generation(self, generation: str) -> str | None:
        """The generation now ('' before the first invalidation); None when Redis can't tell."""
        try:
            value = await self._redis.get(generation)
        except _ERRORS as error:
            self._failed("generation", generation, error)
            return None
        return "" if value is None else (value.decode() if isinstance(value, bytes) else str(value))

    async def _write_if(self, key: str, data: bytes, ttl_seconds: float, generation: str, expected: str) -> bool:
        """SET unless the series was invalidated since `expected` was read. Whether it was stored."""
        message = self._message(keys=[key]) if self._near.covers(key) else b""
        px = max(1, int(ttl_seconds * 1000))
        try:
            stored = await self._redis.eval(
                _SET_IF_GENERATION, 2, key, generation, expected, data, px, INVALIDATION_CHANNEL, message
            )
        except _ERRORS as error:
            self._failed("set", key, error)
            return False
        return bool(stored)

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

    # --- invalidation listener -------------------------------------------------------------------------

    def _message(self, *, keys: list[str] | None = None, pattern: str | None = None) -> bytes:
        return orjson.dumps({"from": self._instance, "keys": keys, "pattern": pattern})

    def _on_message(self, data: bytes) -> None:
        try:
            message = orjson.loads(data)
            sender, keys, pattern = message["from"], message["keys"] or [], message["pattern"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            sender, keys, pattern = None, None, None
        if not (isinstance(keys, list) and all(isinstance(k, str) for k in keys)
                and (pattern is None or isinstance(pattern, str))):
            log.warning("cache_invalidation_unreadable", data=data[:200])
            self._near.clear()  # cannot tell what it invalidates: assume everything
            return
        if sender == self._instance:
            return
        self._near.invalidate_keys(keys)
        if pattern is not None:
            self._near.invalidate_pattern(pattern)

    async def _listen(self) -> None:
        """Subscribe, apply invalidations, heartbeat; on any failure bypass the near cache, back off, retry."""
        delay = 0.05
        while True:
            pubsub = self._redis.pubsub()
            try:
                await self._subscribe(pubsub)
                delay = 0.05
                log.info("cache_invalidations_subscribed", channel=INVALIDATION_CHANNEL)
                await self._receive(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # whatever broke, the near cache must not be trusted: bypass, retry
                self.errors += 1
                log.warning("cache_invalidations_lost", error=f"{type(error).__name__}: {error}", retry_in_s=delay)
            finally:
                self._set_subscribed(False)
                with contextlib.suppress(*_ERRORS):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._near_reconnect_max_s)

    async def _subscribe(self, pubsub: PubSub) -> None:
        """Returns once Redis has confirmed the subscription: from then on no invalidation can be missed."""
        await pubsub.subscribe(INVALIDATION_CHANNEL)
        deadline = time.monotonic() + max(1.0, 2 * self._socket_timeout)
        while (remaining := deadline - time.monotonic()) > 0:
            message = await pubsub.get_message(timeout=remaining)
            if message is not None and message["type"] == "subscribe":
                self._set_subscribed(True)
                return
        raise TimeoutError("no subscription confirmation")

    async def _receive(self, pubsub: PubSub) -> None:
        next_ping = time.monotonic() + self._near_heartbeat_s
        while True:
            message = await pubsub.get_message(timeout=self._near_heartbeat_s)
            now = time.monotonic()
            if message is not None:
                self._near_last_seen = now
                if message["type"] == "message":
                    self._on_message(message["data"])
            if now - self._near_last_seen > self._near_liveness_s:
                raise TimeoutError(f"no pong from Redis for {now - self._near_last_seen:.1f}s")
            if now >= next_ping:
                await pubsub.ping()
                next_ping = now + self._near_heartbeat_s

    def _set_subscribed(self, subscribed: bool) -> None:
        """Either way the local entries may have missed invalidations: they go, and loads in flight too."""
        self._near.clear()
        self._near_subscribed = subscribed
        self._near_last_seen = time.monotonic()


def _as_bytes(data: bytes | str | None) -> bytes | None:
    return data.encode() if isinstance(data, str) else data
