"""In-process cache (used when REDIS_URL is unset): TTL per key, glob deletes, single-flight misses.

Values go through the same codec as Redis, so callers see the same types from both adapters and never
share mutable objects with the cache.
"""

import fnmatch
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from src.infrastructure.cache import codec
from src.infrastructure.cache.single_flight import SingleFlight


class MemoryCache:
    """`Cache` in this process. `clock` is monotonic seconds (injectable for TTL tests);
    `max_entries` bounds memory: the entries closest to expiry go first when it is exceeded."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 10_000,
        generation_of: Callable[[str], str | None] = lambda _: None,
    ) -> None:
        self._clock = clock
        self._max_entries = max_entries
        # (expiry, payload, raw): a bytes value is kept as it is (immutable, so shared without a copy),
        # anything else encoded, so every reader decodes its own copy.
        self._entries: dict[str, tuple[float, bytes, bool]] = {}
        self._generation_of = generation_of
        self._generations: dict[str, int] = {}
        self._flight = SingleFlight()
        self.hits = 0
        self.misses = 0
        self.errors = 0  # never incremented: nothing here can fail; kept for a uniform metrics surface

    async def get(self, key: str) -> Any | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] <= self._clock():
            if entry is not None:
                del self._entries[key]
            self.misses += 1
            return None
        self.hits += 1
        _, payload, raw = entry
        return payload if raw else codec.decode(payload)

    async def set(self, key: str, value: Any, ttl_seconds: float) -> None:
        if ttl_seconds <= 0:
            self._entries.pop(key, None)
            return
        raw = isinstance(value, bytes)
        self._entries[key] = (self._clock() + ttl_seconds, bytes(value) if raw else codec.encode(value), raw)
        if len(self._entries) > self._max_entries:
            self._evict()

    async def set_many(self, entries: Sequence[tuple[str, Any, float]]) -> int:
        for key, value, ttl_seconds in entries:
            await self.set(key, value, ttl_seconds)
        return 0

    def _evict(self) -> None:
        now = self._clock()
        for key in [k for k, (expires, _, _) in self._entries.items() if expires <= now]:
            del self._entries[key]
        excess = len(self._entries) - self._max_entries
        if excess > 0:
            for key in sorted(self._entries, key=lambda k: self._entries[k][0])[:excess]:
                del self._entries[key]

    async def delete(self, *keys: str) -> int:
        now = self._clock()
        deleted = 0
        for key in keys:
            entry = self._entries.pop(key, None)
            deleted += entry is not None and entry[0] > now
        return deleted

    async def delete_pattern(self, pattern: str) -> int:
        if generation := self._generation_of(pattern):
            self._generations[generation] = self._generations.get(generation, 0) + 1
        matching = [k for k in self._entries if fnmatch.fnmatchcase(k, pattern)]
        return await self.delete(*matching)

    async def get_or_set(self, key: str, ttl_seconds: float, compute: Callable[[], Awaitable[Any]]) -> Any:
        cached = await self.get(key)
        if cached is not None:
            return cached

        async def fill() -> Any:
            generation = self._generation_of(key)
            before = self._generations.get(generation, 0) if generation else 0
            value = await compute()
            # Invalidated while computing: the value may predate the write; return it, don't keep it.
            if not generation or self._generations.get(generation, 0) == before:
                await self.set(key, value, ttl_seconds)
            return codec.decode(codec.encode(value))

        return await self._flight.run(key, fill)

    async def ping(self) -> bool:
        return True
