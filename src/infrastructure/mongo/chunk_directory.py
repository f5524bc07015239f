"""A series' directory of chunks, packed: which chunks exist and each one's bar count, first and last time.

One document per series: `_id` = the series id, its parts as fields, `version`, and four packed int64
columns `s n f l` (chunk start, count, first and last bar time), sorted by start. Packed, it costs the
store a few bytes per chunk, never a field per chunk: mongoeco handles each field of a document in Python on
every update, so a directory of nested fields grew slower to update with every chunk (7 ms at 80 chunks,
17 ms at 200); packed, an update costs the same at any depth.

A chunk is registered with n=0 and unknown times before it is first written; its stats then only grow
(count, last) or shrink (first), since bars are never deleted. So merging stats takes the maximum count and
last time and the minimum first time: merges commute, and a writer that lost an optimistic race merges
again on what the winner stored.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

UNKNOWN_FIRST = np.iinfo(np.int64).max
UNKNOWN_LAST = -1
_FIELDS = ("s", "n", "f", "l")

type Stats = tuple[int, int, int]  # n, first, last


@dataclass(frozen=True, slots=True)
class ChunkEntry:
    start: int
    n: int
    first: int | None  # None until the chunk's first write is recorded
    last: int | None

    @property
    def complete(self) -> bool:
        return self.n > 0 and self.first is not None and self.last is not None


def decode_directory(doc: Mapping[str, Any] | None) -> list[ChunkEntry]:
    if doc is None:
        return []
    s, n, f, l_ = (np.frombuffer(doc[name], "<i8") for name in _FIELDS)
    return [ChunkEntry(int(a), int(b), None if c == UNKNOWN_FIRST else int(c), None if d == UNKNOWN_LAST else int(d))
            for a, b, c, d in zip(s.tolist(), n.tolist(), f.tolist(), l_.tolist(), strict=True)]


def merge_directory(doc: Mapping[str, Any] | None, stats: Mapping[int, Stats | None]) -> dict[str, bytes] | None:
    """The packed columns with `stats` merged in (None: only register the chunk); None when nothing changes."""
    entries = {e.start: (e.n, _first(e.first), _last(e.last)) for e in decode_directory(doc)}
    before = dict(entries)
    for start, new in stats.items():
        n, first, last = entries.get(start, (0, UNKNOWN_FIRST, UNKNOWN_LAST))
        if new is not None:
            n, first, last = max(n, new[0]), min(first, new[1]), max(last, new[2])
        entries[start] = (n, first, last)
    if entries == before:
        return None
    starts = sorted(entries)
    columns = [starts, *zip(*(entries[s] for s in starts), strict=True)]
    return {name: np.array(column, dtype="<i8").tobytes() for name, column in zip(_FIELDS, columns, strict=True)}


def _first(value: int | None) -> int:
    return UNKNOWN_FIRST if value is None else value


def _last(value: int | None) -> int:
    return UNKNOWN_LAST if value is None else value


def set_entries(doc: Mapping[str, Any] | None, stats: Mapping[int, Stats | None]) -> dict[str, bytes]:
    """The packed columns with each chunk's entry set to `stats` exactly (None: the chunk is gone) — for a
    removal, the one write that shrinks a chunk, where a merge would keep the old counts."""
    entries = {e.start: (e.n, _first(e.first), _last(e.last)) for e in decode_directory(doc)}
    for start, new in stats.items():
        if new is None:
            entries.pop(start, None)
        else:
            entries[start] = new
    starts = sorted(entries)
    columns = [starts, *zip(*(entries[s] for s in starts), strict=True)] if starts else [[]] * (len(_FIELDS))
    return {name: np.array(column, dtype="<i8").tobytes() for name, column in zip(_FIELDS, columns, strict=True)}
