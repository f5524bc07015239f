"""OHLCV bars in chunk documents (one per series and calendar period), on pymongo's async API.

Documents (schema version 3):
- a chunk: `_id` = "source:EXCHANGE:CODE:interval@start" (the series and its chunk start), the same parts as
  fields, `start`, `end`, `version`, `n`/`first`/`last` and the packed columns `dt o h l c v p` (`chunking`);
- a series directory: `_id` = "source:EXCHANGE:CODE:interval", `version`, and each chunk's start, count,
  first and last time packed (`chunk_directory`), so reads and coverage know which chunks exist without a
  query.

Layouts, chosen per database (`collections_per_chunk`; README "Storage layout" has the measurements):
- **own collections** (the default on the embedded store): every chunk in a collection of its own,
  `ohlcv_chunks.<chunk id>`, and every directory in `ohlcv_directory.<series id>`. mongoeco scans a whole
  collection when a document is inserted, when an `_id` that is not there is looked up or upserted, and
  when a query is planned after any write to it; in a collection of one document those scans cost nothing,
  so writing a new chunk costs the same at the first chunk of a series and at the thousandth.
- **shared** (the default on MongoDB): all chunks in `ohlcv_chunks`, all directories in `ohlcv_directory`;
  MongoDB finds and inserts by `_id` through its B-tree, in time that hardly grows with the collection.

Every read and write addresses documents by `_id` only.

Concurrency: a chunk is read, merged and written back with an optimistic check: the update's filter is
(`_id`, `version` read), so it applies only if nobody wrote the chunk since; otherwise we re-read and retry
(bounded). A new chunk is inserted; a duplicate key means a concurrent writer created it, so we retry as an
update. The directory is updated with `$max`/`$min` only: writes never delete bars, so each chunk's count
and last time only grow and its first time only shrinks, which makes the directory update commutative and
safe to race. The one exception is `remove` (a repair deleting bars stamped off the series' calendar): it
rewrites each chunk with the same optimistic check and then sets that chunk's directory entry exactly; it
runs under the series' sync run. A chunk is registered in the directory (with n=0) before it is first
inserted, so a crash between the two cannot hide stored bars.
"""

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import Any

import numpy as np
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import CollectionInvalid, DuplicateKeyError

from src.common.errors import Conflict, StoreUnavailable
from src.common.ports import SeriesCoverage
from src.domain.market_data import BarColumns, OHLCVBar, SeriesKey, gaps_between, runs
from src.infrastructure.mongo.chunk_directory import ChunkEntry, Stats, decode_directory, merge_directory, set_entries
from src.infrastructure.mongo.chunking import (
    TIME_FIELDS,
    chunk_end,
    chunk_start,
    chunk_starts,
    decode,
    decode_times,
    encode,
    merge_chunk,
    nominal_bars,
)
from src.infrastructure.mongo.connection import UNAVAILABLE_ERRORS, translate_errors

CHUNKS = "ohlcv_chunks"
DIRECTORY = "ohlcv_directory"
FETCH_BATCH = 8  # chunks fetched at once by a read, at most
FETCH_BARS = 64_000  # ... and about this many bars: a month of 1m bars is fetched alone
DECODE_IN_THREAD_BARS = 20_000  # below this, a worker thread costs more than the decode it would move
_FAR_FUTURE = 1 << 62

type Directory = list[ChunkEntry]


def series_id(key: SeriesKey) -> str:
    return f"{key.source}:{key.symbol.exchange}:{key.symbol.code}:{key.interval.code}"


def chunk_id(key: SeriesKey, start: int) -> str:
    return f"{series_id(key)}@{start}"


class MongoOHLCVRepository:
    """`OHLCVRepository` on MongoDB/mongoeco. `max_retries` bounds optimistic-write retries per chunk."""

    def __init__(
        self,
        database: AsyncDatabase[dict[str, Any]],
        *,
        max_retries: int = 25,
        collections_per_chunk: bool = True,
    ) -> None:
        self._database = database
        self.collections_per_chunk = collections_per_chunk
        self.max_retries = max_retries
        self.docs_fetched = 0  # chunk and directory documents read, for benchmarks and metrics
        self.write_conflicts = 0  # optimistic-check retries

    @translate_errors
    async def ensure_indexes(self) -> None:
        """Chunks and directories are addressed by `_id` only, whose unique index always exists. This creates
        the shared collections, idempotently; own collections are created by their first insert."""
        if self.collections_per_chunk:
            return
        existing = set(await self._database.list_collection_names())
        for name in (CHUNKS, DIRECTORY):
            if name not in existing:
                with contextlib.suppress(CollectionInvalid):  # created meanwhile by another worker
                    await self._database.create_collection(name)

    def chunk_collection(self, key: SeriesKey, start: int) -> AsyncCollection[dict[str, Any]]:
        return self._database[f"{CHUNKS}.{chunk_id(key, start)}" if self.collections_per_chunk else CHUNKS]

    def directory_collection(self, key: SeriesKey) -> AsyncCollection[dict[str, Any]]:
        return self._database[f"{DIRECTORY}.{series_id(key)}" if self.collections_per_chunk else DIRECTORY]

    # --- writes ----------------------------------------------------------------------------------

    @translate_errors
    async def upsert(self, key: SeriesKey, bars: Sequence[OHLCVBar] | BarColumns) -> int:
        incoming = _columns_of(key, bars).normalized().check()
        if not len(incoming):
            return 0
        pieces = _by_chunk(incoming)
        directory = await self.directory_collection(key).find_one({"_id": series_id(key)})
        known = {entry.start for entry in decode_directory(directory)}
        fresh = [start for start in pieces if start not in known]
        if fresh:  # register before inserting, so a crash in between cannot hide stored bars
            await self._update_directory(key, dict.fromkeys(fresh), directory)
        results = await asyncio.gather(
            *(self._upsert_chunk(key, s, piece, s not in known) for s, piece in pieces.items())
        )
        await self._update_directory(key, {s: stats for s, (_, stats) in zip(pieces, results, strict=True)})
        return sum(changed for changed, _ in results)

    async def _upsert_chunk(
        self, key: SeriesKey, start: int, piece: BarColumns, fresh: bool
    ) -> tuple[int, tuple[int, int, int]]:
        collection = self.chunk_collection(key, start)
        for _ in range(self.max_retries):
            doc = None if fresh else await collection.find_one({"_id": chunk_id(key, start)})
            fresh = False  # after a lost race, always read what the other writer stored
            merged, changed = merge_chunk(decode(key, doc) if doc is not None else None, piece)
            stats = (len(merged), int(merged.time[0]), int(merged.time[-1]))
            if changed == 0:
                return 0, stats
            if doc is None:
                if await self._insert_chunk(key, start, merged):
                    return changed, stats
            elif await self._replace_if_unchanged(collection, doc["_id"], doc["version"], merged):
                return changed, stats
            self.write_conflicts += 1
        raise Conflict(f"{key}: chunk {start} kept changing; gave up after {self.max_retries} attempts")

    async def _insert_chunk(self, key: SeriesKey, start: int, merged: BarColumns) -> bool:
        doc = {
            "_id": chunk_id(key, start),
            **_series_fields(key),
            "start": start,
            "end": chunk_end(key.interval, start),
            "version": 1,
            **_stats_fields(merged),
            **encode(merged),
        }
        try:
            await self.chunk_collection(key, start).insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def _replace_if_unchanged(
        self, collection: AsyncCollection[dict[str, Any]], _id: str, version: int, merged: BarColumns
    ) -> bool:
        fields = {**_stats_fields(merged), **encode(merged), "version": version + 1}
        result = await collection.update_one({"_id": _id, "version": version}, {"$set": fields})
        return result.matched_count == 1

    async def _update_directory(
        self, key: SeriesKey, stats: dict[int, Stats | None], doc: dict[str, Any] | None = None
    ) -> None:
        """Merge chunk stats into the series' directory (None: register the chunk), optimistically: the update
        applies only to the version read; `doc` is a copy just read, saving the first read."""
        collection, _id = self.directory_collection(key), series_id(key)
        for attempt in range(self.max_retries):
            if attempt or doc is None:
                doc = await collection.find_one({"_id": _id})
            columns = merge_directory(doc, stats)
            if columns is None:
                return
            if doc is None:
                with contextlib.suppress(DuplicateKeyError):  # created meanwhile: merge into theirs
                    await collection.insert_one({"_id": _id, **_series_fields(key), "version": 1, **columns})
                    return
            else:
                changed = {**columns, "version": doc["version"] + 1}
                result = await collection.update_one({"_id": _id, "version": doc["version"]}, {"$set": changed})
                if result.matched_count:
                    return
            self.write_conflicts += 1
        raise Conflict(f"{key}: its directory kept changing; gave up after {self.max_retries} attempts")

    @translate_errors
    async def remove(self, key: SeriesKey, times: Sequence[int]) -> int:
        """Delete the bars at `times` (a repair removing bars stamped off the series' calendar); returns how
        many were stored. Each chunk is rewritten with the optimistic check, then its directory entry is set
        exactly (emptied chunks are deleted and leave the directory)."""
        doomed = np.unique(np.asarray(times, dtype=np.int64))
        known = {entry.start for entry in await self._directory(key)}
        starts = chunk_starts(key.interval, doomed)
        results = await asyncio.gather(*(
            self._remove_from_chunk(key, int(s), doomed[starts == s]) for s in np.unique(starts) if int(s) in known
        ))
        changed = {start: stats for removed, start, stats in results if removed}
        if changed:
            await self._set_directory(key, changed)
        return sum(removed for removed, _, _ in results)

    async def _remove_from_chunk(self, key: SeriesKey, start: int, doomed: np.ndarray) -> tuple[int, int, Stats | None]:
        """(bars removed, chunk start, the chunk's stats after; None when it is left empty and deleted)."""
        collection, _id = self.chunk_collection(key, start), chunk_id(key, start)
        for _ in range(self.max_retries):
            doc = await collection.find_one({"_id": _id})
            if doc is None:
                return 0, start, None
            stored = decode(key, doc)
            kept = stored.without(doomed)
            removed = len(stored) - len(kept)
            if not removed:
                return 0, start, None
            if not len(kept):
                if (await collection.delete_one({"_id": _id, "version": doc["version"]})).deleted_count:
                    return removed, start, None
            elif await self._replace_if_unchanged(collection, _id, doc["version"], kept):
                return removed, start, (len(kept), int(kept.time[0]), int(kept.time[-1]))
            self.write_conflicts += 1
        raise Conflict(f"{key}: chunk {start} kept changing; gave up after {self.max_retries} attempts")

    async def _set_directory(self, key: SeriesKey, stats: dict[int, Stats | None]) -> None:
        collection, _id = self.directory_collection(key), series_id(key)
        for _ in range(self.max_retries):
            doc = await collection.find_one({"_id": _id})
            if doc is None:
                return
            changed = {**set_entries(doc, stats), "version": doc["version"] + 1}
            if (await collection.update_one({"_id": _id, "version": doc["version"]}, {"$set": changed})).matched_count:
                return
            self.write_conflicts += 1
        raise Conflict(f"{key}: its directory kept changing; gave up after {self.max_retries} attempts")

    # --- reads -----------------------------------------------------------------------------------

    async def _directory(self, key: SeriesKey) -> Directory:
        doc = await self.directory_collection(key).find_one({"_id": series_id(key)})
        self.docs_fetched += doc is not None
        return decode_directory(doc)

    async def _fetch(self, key: SeriesKey, starts: Sequence[int], projection: Any = None) -> list[dict[str, Any]]:
        """The chunk documents that exist, in the order of `starts`."""
        docs = await asyncio.gather(
            *(self.chunk_collection(key, s).find_one({"_id": chunk_id(key, s)}, projection) for s in starts)
        )
        found = [d for d in docs if d is not None]
        self.docs_fetched += len(found)
        return found

    @translate_errors
    async def has_bars(self, key: SeriesKey) -> bool:
        return any(entry.n for entry in await self._directory(key))

    @translate_errors
    async def read(
        self,
        key: SeriesKey,
        *,
        start: int | None = None,
        end: int | None = None,
        limit: int | None = None,
        descending: bool = False,
        oldest_first: bool = False,
    ) -> BarColumns:
        lo, hi = _bounds(start, end)
        newest_first = limit is not None and not oldest_first
        pieces = [piece async for piece in self._pieces(key, lo, hi, limit, newest_first)]
        columns = BarColumns.concat(key, pieces[::-1] if newest_first else pieces)
        return columns.reversed() if descending else columns

    async def stream(
        self,
        key: SeriesKey,
        *,
        start: int | None = None,
        end: int | None = None,
        limit: int | None = None,
        descending: bool = False,
        oldest_first: bool = False,
    ) -> AsyncIterator[BarColumns]:
        """`read` in pieces of about one chunk, in the asked order, holding one batch of chunks at a time."""
        lo, hi = _bounds(start, end)
        if limit is not None and oldest_first == descending:  # the limit counts from the other end
            edge, _ = await self.page(key, start=lo, end=hi, limit=limit, oldest_first=oldest_first)
            if edge is not None:
                lo, hi = (edge, hi) if not oldest_first else (lo, edge)
            limit = None
        try:
            async with contextlib.aclosing(self._pieces(key, lo, hi, limit, newest_first=descending)) as pieces:
                async for piece in pieces:
                    yield piece.reversed() if descending else piece
        except UNAVAILABLE_ERRORS as error:
            raise StoreUnavailable(f"MongoDB is unavailable: {type(error).__name__}") from error

    @translate_errors
    async def page(
        self, key: SeriesKey, *, start: int | None = None, end: int | None = None, limit: int,
        oldest_first: bool = False,
    ) -> tuple[int | None, bool]:
        """Where a page of `limit` bars from the newest (or oldest) end of [start, end] stops: the time of its
        last bar in that walk (None when the range holds at most `limit` bars) and whether bars lie beyond it.
        Counts from the directory; reads the time column only of the chunks the edge may fall in."""
        lo, hi = _bounds(start, end)
        newest_first = not oldest_first
        seen, edge = 0, None
        for entry in await self._entries(key, lo, hi, newest_first):
            count = _count_within(entry, lo, hi)
            if count is None or (edge is None and seen + count >= limit):
                times = await self._times(key, entry.start, lo, hi)
                times, count = (times[::-1] if newest_first else times), times.size
                if edge is None and seen + count >= limit and count:
                    edge = int(times[limit - seen - 1])
            if edge is not None and seen + count > limit:
                return edge, True
            seen += count
        return edge, False

    async def _entries(self, key: SeriesKey, lo: int, hi: int, newest_first: bool) -> Directory:
        interval = key.interval
        entries = [e for e in await self._directory(key) if e.start <= hi and chunk_end(interval, e.start) > lo]
        return entries[::-1] if newest_first else entries

    async def _times(self, key: SeriesKey, chunk: int, lo: int, hi: int) -> np.ndarray:
        docs = await self._fetch(key, [chunk], TIME_FIELDS)
        times = decode_times(docs[0]) if docs else np.zeros(0, np.int64)
        return times[(times >= lo) & (times <= hi)]

    async def _pieces(
        self, key: SeriesKey, lo: int, hi: int, limit: int | None, newest_first: bool
    ) -> AsyncGenerator[BarColumns]:
        """Each chunk's bars within [lo, hi] (ascending), chunks walked from the newest or the oldest, until
        `limit` bars have been given; a few chunks are fetched at a time, as many as the directory's counts
        say the limit needs."""
        if (limit is not None and limit <= 0) or lo > hi:
            return
        entries = await self._entries(key, lo, hi, newest_first)
        remaining = limit
        ahead: asyncio.Future[list[dict[str, Any]]] | None = None
        try:
            while entries and (remaining is None or remaining > 0):
                take = _batch_size(entries, remaining, nominal_bars(key.interval))
                batch, entries = entries[:take], entries[take:]
                docs = await (ahead or self._fetch(key, [entry.start for entry in batch]))
                ahead = None
                if remaining is None and entries:  # no limit: read the next batch while this one is used
                    following = entries[:_batch_size(entries, None, nominal_bars(key.interval))]
                    ahead = asyncio.ensure_future(self._fetch(key, [e.start for e in following]))
                for decoded in await _decoded(key, docs, lo, hi):
                    piece = decoded
                    if remaining is not None:
                        piece = decoded.last(remaining) if newest_first else decoded.first(remaining)
                        remaining -= len(piece)
                    yield piece
        finally:
            if ahead is not None:
                ahead.cancel()

    @translate_errors
    async def coverage(self, key: SeriesKey) -> SeriesCoverage:
        directory = await self._directory(key)
        entries = await self._complete_stats(key, directory)
        if not entries:
            return SeriesCoverage(key, None, None, 0)
        first, last = entries[0][1], entries[-1][2]
        count = sum(n for n, _, _ in entries)
        if not key.interval.is_intraday:
            return SeriesCoverage(key, first, last, count)
        gaps = await self._gaps(key, entries)
        missing = sum((b - a) // key.interval.seconds + 1 for a, b in gaps)
        return SeriesCoverage(key, first, last, count, tuple(gaps), missing)

    async def _complete_stats(self, key: SeriesKey, directory: Directory) -> list[Stats]:
        """(n, first, last) per non-empty chunk in time order; chunks whose directory entry was never
        completed (a writer stopped between insert and stats) are read from the chunk itself."""
        incomplete = [entry.start for entry in directory if not entry.complete]
        repaired: dict[int, Stats] = {}
        if incomplete:
            for doc in await self._fetch(key, incomplete, {"n": 1, "first": 1, "last": 1, "start": 1}):
                repaired[doc["start"]] = (doc["n"], doc["first"], doc["last"])
        stats = [repaired.get(e.start) or ((e.n, e.first, e.last) if e.complete else None) for e in directory]
        return [s for s in stats if s is not None and s[0]]  # type: ignore[misc]

    async def _gaps(self, key: SeriesKey, entries: list[tuple[int, int, int]]) -> list[tuple[int, int]]:
        """The domain's gap rule over the series' stretches of consecutive bars: a complete chunk is one
        stretch (first, last); only chunks with holes are read to find theirs."""
        step = key.interval.seconds
        holey = [first for n, first, last in entries if n < (last - first) // step + 1]
        inner: dict[int, list[tuple[int, int]]] = {}
        if holey:
            docs = await self._fetch(key, [chunk_start(key.interval, f) for f in holey], {**TIME_FIELDS, "first": 1})
            inner = {doc["first"]: runs(decode_times(doc).tolist(), key.interval) for doc in docs}
        stretches = [stretch for _, first, last in entries for stretch in inner.get(first, [(first, last)])]
        return gaps_between(stretches, key.interval)


async def _decoded(key: SeriesKey, docs: list[dict[str, Any]], lo: int, hi: int) -> list[BarColumns]:
    """The documents' bars within [lo, hi]. A large batch is decoded in a worker thread: numpy and Zstandard
    release the GIL, so decoding runs beside the event loop and the embedded store's fetch of the next batch,
    and other requests of this worker are not held up by it."""
    def decode_all() -> list[BarColumns]:
        return [decode(key, doc).between(lo, hi) for doc in docs]

    if sum(int(doc.get("n", 0)) for doc in docs) < DECODE_IN_THREAD_BARS:
        return decode_all()
    return await asyncio.to_thread(decode_all)


def _columns_of(key: SeriesKey, bars: Sequence[OHLCVBar] | BarColumns) -> BarColumns:
    if isinstance(bars, BarColumns):
        if bars.key.interval is not key.interval:
            raise ValueError(f"bars are {bars.key.interval.code}, series is {key.interval.code}")
        return bars.renamed(key)
    return BarColumns.from_bars(key, bars)


def _by_chunk(columns: BarColumns) -> dict[int, BarColumns]:
    """The (sorted) bars split by the chunk each belongs to."""
    starts = chunk_starts(columns.key.interval, columns.time)
    edges = (np.flatnonzero(np.diff(starts)) + 1).tolist()
    bounds = zip([0, *edges], [*edges, starts.size], strict=True)
    return {int(starts[i]): columns.rows(i, j) for i, j in bounds}


def _count_within(entry: ChunkEntry, lo: int, hi: int) -> int | None:
    """A chunk's bar count when the directory knows it and the chunk lies wholly within [lo, hi]."""
    if not entry.complete or entry.first < lo or entry.last > hi:  # type: ignore[operator]
        return None
    return entry.n


def _bounds(start: int | None, end: int | None) -> tuple[int, int]:
    return (0 if start is None else start), (_FAR_FUTURE if end is None else end)


def _batch_size(entries: Directory, remaining: int | None, per_chunk: int) -> int:
    """How many of the next chunks to fetch at once: all of a batch without a limit; else enough to hold
    `remaining` bars by the directory's counts (a chunk whose count is unknown is taken as nominally full)."""
    if remaining is None:
        return max(1, min(FETCH_BATCH, FETCH_BARS // per_chunk))
    take = 0
    while take < min(FETCH_BATCH, len(entries)) and remaining > 0:
        remaining -= entries[take].n or per_chunk
        take += 1
    return max(1, take)


def _series_fields(key: SeriesKey) -> dict[str, str]:
    return {"source": key.source, "exchange": key.symbol.exchange, "symbol": key.symbol.code,
            "interval": key.interval.code}


def _stats_fields(chunk: BarColumns) -> dict[str, int]:
    return {"n": len(chunk), "first": int(chunk.time[0]), "last": int(chunk.time[-1])}


__all__ = ["CHUNKS", "DIRECTORY", "MongoOHLCVRepository", "chunk_id", "series_id"]
