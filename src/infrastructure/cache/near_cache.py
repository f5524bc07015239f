"""The near cache: a small in-process LRU of encoded values in front of Redis, for keys with given prefixes.

It holds bytes exactly as Redis returned them, each with an absolute expiry (monotonic seconds) that the
owner computes no later than the key's Redis expiry. Bounded by entry count and by total size.

`epoch` counts invalidations: a reader captures it before reading Redis (or computing) and `put` refuses
the value if any invalidation happened since, so a value read before an invalidation never lands after it.
`RedisCache` decides when the near cache may be used at all (only while invalidations are received).
"""

import fnmatch
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

_ENTRY_OVERHEAD = 100  # bytes per entry besides key and value, roughly: counted toward `max_bytes`
_GLOB = "*?[\\"


class NearCache:
    def __init__(
        self,
        prefixes: tuple[str, ...],
        *,
        max_entries: int,
        max_bytes: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._prefixes = prefixes
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        # Decoded values that are immutable (bytes: pre-serialized responses), kept so a hit copies nothing.
        self._decoded: dict[str, bytes] = {}
        self._bytes = 0
        self.epoch = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    @property
    def enabled(self) -> bool:
        return bool(self._prefixes)

    def covers(self, key: str) -> bool:
        return bool(self._prefixes) and key.startswith(self._prefixes)

    def may_match(self, pattern: str) -> bool:
        """Whether a glob could match a covered key: its literal head and some prefix agree."""
        head = pattern
        for index, char in enumerate(pattern):
            if char in _GLOB:
                head = pattern[:index]
                break
        return any(head.startswith(p) or p.startswith(head) for p in self._prefixes)

    def get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            self._remove(key)
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def get_value(self, key: str, decode: Callable[[bytes], Any]) -> Any | None:
        """`decode(get(key))`, decoding an entry that decodes to bytes only once."""
        data = self.get(key)
        if data is None:
            return None
        decoded = self._decoded.get(key)
        if decoded is None:
            value = decode(data)
            if not isinstance(value, bytes):
                return value  # mutable: every reader gets its own
            decoded = self._decoded[key] = value
        return decoded

    def put(self, key: str, data: bytes, expires: float, epoch: int) -> bool:
        """Store unless an invalidation happened since `epoch` was read, or it is expired or too big."""
        size = _size(key, data)
        if epoch != self.epoch or expires <= self._clock() or size > self._max_bytes:
            return False
        self._remove(key)
        self._entries[key] = (expires, data)
        self._bytes += size
        while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
            self._remove(next(iter(self._entries)))  # least recently used first
        return True

    def invalidate_keys(self, keys: Iterable[str]) -> None:
        self.epoch += 1
        for key in keys:
            self._remove(key)

    def invalidate_pattern(self, pattern: str) -> None:
        """Glob semantics of `MemoryCache.delete_pattern`; a pattern with classes or escapes, whose Redis and
        fnmatch meanings may differ, drops everything rather than risk keeping a match."""
        if "[" in pattern or "\\" in pattern:
            self.clear()
            return
        self.invalidate_keys([k for k in self._entries if fnmatch.fnmatchcase(k, pattern)])

    def clear(self) -> None:
        self.epoch += 1
        self._entries.clear()
        self._decoded.clear()
        self._bytes = 0

    def _remove(self, key: str) -> None:
        self._decoded.pop(key, None)
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= _size(key, entry[1])


def _size(key: str, data: bytes) -> int:
    return len(key) + len(data) + _ENTRY_OVERHEAD
