"""Redis Streams between the processes of one deployment: appending entries (bounded with `MAXLEN ~`) and
following streams from where this process left off.

`RedisStreams` uses a Redis client of its own (built by the root with a socket timeout above the blocking
read), without the shared client's circuit breaker: a blocking read is not a failure, and an outage here
must not make the cache fail fast. Every call is bounded by `asyncio.timeout` besides the socket timeout.

`StreamFollower` runs one reading loop for every stream the process follows. A stream is followed from its
end when first read (what came before was for the processes that were there); from then on the position
of the last entry handled is kept, so after a dropped connection or a Redis restart the loop resumes after
it (entries trimmed meanwhile by the length bound are gone: the bound is the replay window). Redis down
never reaches the caller: the loop logs once per outage and retries every `retry_s`.
"""

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from src.common.tasks import cancelled

log = structlog.get_logger("streams")

Fields = dict[bytes, bytes]
Entry = tuple[str, Fields]  # stream name, fields
Handler = Callable[[Fields], Awaitable[None]]
START = "0-0"


class RedisStreams:
    def __init__(self, redis: Redis, *, timeout_s: float, max_length: int, block_s: float = 0.5) -> None:
        self.redis = redis
        self._timeout_s = timeout_s
        self._max_length = max_length
        self.block_s = block_s

    async def append(self, entries: Sequence[tuple[str, Mapping[str, bytes | str]]]) -> None:
        """One round trip for every entry, in order."""
        async with asyncio.timeout(self._timeout_s):
            async with self.redis.pipeline(transaction=False) as pipe:
                for stream, fields in entries:
                    pipe.xadd(stream, dict(fields), maxlen=self._max_length, approximate=True)  # type: ignore[arg-type]
                await pipe.execute()

    async def end(self, stream: str) -> str:
        """The id of the stream's last entry (START when it has none)."""
        async with asyncio.timeout(self._timeout_s):
            last: Any = await self.redis.xrevrange(stream, count=1)
        return _text(last[0][0]) if last else START

    async def read(self, positions: Mapping[str, str], count: int) -> list[tuple[str, str, Fields]]:
        """Entries after each position, waiting up to `block_s` for the first."""
        async with asyncio.timeout(self.block_s + self._timeout_s):
            answer: Any = await self.redis.xread(dict(positions), count=count,  # type: ignore[arg-type]
                                                 block=max(1, int(self.block_s * 1000)))
        return [(_text(stream), _text(entry_id), fields) for stream, entries in answer or ()
                for entry_id, fields in entries]

    async def put(self, key: str, value: bytes, *, ttl_s: float | None = None) -> None:
        async with asyncio.timeout(self._timeout_s):
            await self.redis.set(key, value, px=None if ttl_s is None else max(1, int(ttl_s * 1000)))

    async def expire(self, key: str, *, ttl_s: float) -> None:
        async with asyncio.timeout(self._timeout_s):
            await self.redis.pexpire(key, max(1, int(ttl_s * 1000)))

    async def delete(self, key: str) -> None:
        async with asyncio.timeout(self._timeout_s):
            await self.redis.delete(key)

    async def join(self, members: str, member: str, *, now: float, ttl_s: float) -> int:
        """Record `member` in the sorted set `members` until `now + ttl_s`, drop those whose time has passed,
        and count the rest (one round trip)."""
        async with asyncio.timeout(self._timeout_s):
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.zadd(members, {member: now + ttl_s})
                pipe.zremrangebyscore(members, "-inf", now)
                pipe.zcard(members)
                pipe.pexpire(members, max(1, int(ttl_s * 3000)))
                answers: Any = await pipe.execute()
        return int(answers[2])

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        async with asyncio.timeout(self._timeout_s):
            values: Any = await self.redis.mget(keys)
        return [None if value is None else bytes(value) for value in values]

    async def get(self, key: str) -> bytes | None:
        async with asyncio.timeout(self._timeout_s):
            value: Any = await self.redis.get(key)
        return None if value is None else bytes(value)

    async def close(self) -> None:
        await self.redis.aclose()


class StreamFollower:
    def __init__(self, streams: RedisStreams, *, count: int = 1000, retry_s: float = 0.5) -> None:
        self._streams = streams
        self._count = count
        self._retry_s = retry_s
        self._handlers: dict[str, Handler] = {}
        self._positions: dict[str, str] = {}
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._down = False
        self.entries_read = 0
        self.handler_failures = 0

    def follow(self, stream: str, handler: Handler, *, from_start: bool = False) -> None:
        """Handle every entry appended to `stream` from now on (`from_start`: every entry it holds, for a
        stream of this process's own, such as its replies)."""
        self._handlers[stream] = handler
        if from_start:
            self._positions[stream] = START
        else:
            self._positions.pop(stream, None)
        self._changed.set()

    def unfollow(self, stream: str) -> None:
        self._handlers.pop(stream, None)
        self._positions.pop(stream, None)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="stream-follower")

    async def stop(self) -> None:
        await cancelled(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            if not self._handlers:
                self._changed.clear()
                await self._changed.wait()
            try:
                await self._read_once()
                self._back_up()
            except (RedisError, OSError, TimeoutError) as error:
                self._went_down(error)
                await asyncio.sleep(self._retry_s)

    async def _read_once(self) -> None:
        for stream in [s for s in self._handlers if s not in self._positions]:
            self._positions[stream] = await self._streams.end(stream)
        positions = {s: p for s, p in self._positions.items() if s in self._handlers}
        for stream, entry_id, fields in await self._streams.read(positions, self._count):
            handler = self._handlers.get(stream)
            if handler is None or stream not in self._positions:
                continue  # unfollowed meanwhile
            self._positions[stream] = entry_id
            self.entries_read += 1
            try:
                await handler(fields)
            except Exception:
                self.handler_failures += 1
                log.exception("stream_entry_failed", stream=stream, entry=entry_id)

    @property
    def connected(self) -> bool:
        """False from a failed read until the next one succeeds."""
        return not self._down

    def _went_down(self, error: BaseException) -> None:
        if not self._down:
            self._down = True
            log.warning("streams_unavailable", error=f"{type(error).__name__}: {error}",
                        detail="following again where it left off once Redis answers")

    def _back_up(self) -> None:
        if self._down:
            self._down = False
            log.info("streams_available")


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class StreamWriter:
    """Appends entries in the background, as they come, batched into one round trip per wake-up. Callers
    never wait for Redis: `put` only queues (at most `max_pending`; beyond it the oldest are dropped). A
    batch Redis refuses is dropped too, counted and logged once per outage: live data is stale by the time
    Redis is back, and the events' consumers recover from the store (a sync, a bar re-read)."""

    def __init__(self, streams: RedisStreams, *, max_pending: int = 10_000, retry_s: float = 0.5) -> None:
        self._streams = streams
        self._pending: deque[tuple[str, Mapping[str, bytes | str]]] = deque(maxlen=max_pending)
        self._retry_s = retry_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._down = False
        self.appended = 0
        self.dropped = 0

    def put(self, stream: str, fields: Mapping[str, bytes | str]) -> None:
        if len(self._pending) == self._pending.maxlen:
            self.dropped += 1
        self._pending.append((stream, fields))
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="stream-writer")

    async def stop(self) -> None:
        """Appends what is queued (bounded by the streams' timeout), then stops."""
        await cancelled(self._task)
        self._task = None
        with contextlib.suppress(RedisError, OSError, TimeoutError):
            await self._flush()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._flush()
                if self._down:
                    self._down = False
                    log.info("stream_writes_resumed")
            except (RedisError, OSError, TimeoutError) as error:
                if not self._down:
                    self._down = True
                    log.warning("stream_writes_failing", error=f"{type(error).__name__}: {error}",
                                detail="entries are dropped until Redis answers")
                await asyncio.sleep(self._retry_s)

    async def _flush(self) -> None:
        batch = list(self._pending)
        self._pending.clear()
        if not batch:
            return
        try:
            await self._streams.append(batch)
        except BaseException:
            self.dropped += len(batch)
            raise
        self.appended += len(batch)
