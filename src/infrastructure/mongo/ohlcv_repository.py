"""OHLCV bars in chunk documents (one per series and calendar period), on pymongo's async API.

Collections:
- chunk documents: `_id` = "source:EXCHANGE:CODE:interval:start" (the series and chunk start, unique by
  construction as the primary key), the same parts as fields, `end`, `version`, `writer`,
  `n`/`first`/`last` and the packed columns `t o h l c v` (see `chunking`). By default each series has
  its own collection `ohlcv_chunks.source:EXCHANGE:CODE:interval`: mongoeco scans the whole collection on every
  insert (its unique-`_id` check decodes each document), so one shared collection makes a new chunk cost
  time proportional to all chunks of all series (measured: 64k bars/s with one series stored, 9k with
  ten). Per series, the cost depends only on that series' own few chunks. MongoDB handles thousands of
  collections well; `collection_per_series=False` keeps everything in one `ohlcv_chunks` collection.
- `ohlcv_series`: one small directory document per series, `_id` = "source:EXCHANGE:CODE:interval", with
  `chunks.<start> = {n, first, last}` so reads and coverage know which chunks exist without a query.

Every read and write addresses documents by `_id` only. That is the cheapest query on MongoDB and the
only one mongoeco answers without scanning its collection, so it keeps the embedded store fast.

Concurrency: a chunk is read, merged and written back with an optimistic check. The write is one atomic
`find_one_and_update` by `_id` whose pipeline applies the new columns only if `version` is still the one
read (`$cond`), stamping a per-attempt `writer` token; if the returned token is not ours another writer
got there first and we re-read and retry (bounded). A new chunk is inserted; a duplicate key means a
concurrent writer created it, so we retry as an update. The directory is updated with `$max`/`$min`
only: writes never delete bars, so each chunk's count and last time only grow and its first time only
shrinks, which makes the directory update commutative and safe to race. The one exception is `remove`
(a repair deleting bars stamped off the series' calendar): it rewrites each chunk with the same optimistic
check and then sets that chunk's directory entry exactly; it runs under the series' sync run. A chunk is
registered in the directory (with n=0) before it is first inserted, so a crash between the two cannot hide
stored bars.
"""

import asyncio
import contextlib
import uuid
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import CollectionInvalid, DuplicateKeyError

from src.common.errors import Conflict
from src.common.ports import BarColumns, SeriesCoverage
from src.domain.market_data import OHLCVBar, SeriesKey, gaps_between, runs
from src.infrastructure.mongo.chunking import (
    PRICE_COLUMNS,
    ChunkColumns,
    Row,
    chunk_end,
    chunk_start,
    decode_times,
    merge_chunk,
    nominal_bars,
)
from src.infrastructure.mongo.connection import translate_errors

CHUNKS = "ohlcv_chunks"
SERIES = "ohlcv_series"


def series_id(key: SeriesKey) -> str:
    return f"{key.source}:{key.symbol.exchange}:{key.symbol.code}:{key.interval.code}"


def chunk_id(key: SeriesKey, start: int) -> str:
    return f"{series_id(key)}:{start}"


class MongoOHLCVRepository:
    """`OHLCVRepository` on MongoDB/mongoeco. `max_retries` bounds optimistic-write retries per chunk."""

    def __init__(
        self,
        database: AsyncDatabase[dict[str, Any]],
        *,
        max_retries: int = 25,
        collection_per_series: bool = True,
    ) -> None:
        self._database = database
        self._series = database[SERIES]
        self.collection_per_series = collection_per_series
        self.max_retries = max_retries
        self.docs_fetched = 0  # chunk and directory documents read, for benchmarks and metrics
        self.write_conflicts = 0  # optimistic-check retries

    @translate_errors
    async def ensure_indexes(self) -> None:
        """Chunks and directory are addressed by `_id` only: its unique index always exists and is the
        (exchange, symbol, interval, start) key. This creates the shared collections, idempotently;
        per-series chunk collections are created by their first insert."""
        existing = set(await self._database.list_collection_names())
        for name in (SERIES,) if self.collection_per_series else (CHUNKS, SERIES):
            if name not in existing:
                with contextlib.suppress(CollectionInvalid):  # created meanwhile by another worker
                    await self._database.create_collection(name)

    def chunk_collection(self, key: SeriesKey) -> AsyncCollection[dict[str, Any]]:
        return self._database[f"{CHUNKS}.{series_id(key)}" if self.collection_per_series else CHUNKS]

    # --- writes ----------------------------------------------------------------------------------

    @translate_errors
    async def upsert(self, key: SeriesKey, bars: Sequence[OHLCVBar]) -> int:
        by_chunk: dict[int, dict[int, Row]] = {}
        interval = key.interval
        for bar in bars:
            if bar.interval is not interval:
                raise ValueError(f"bar at {bar.time} is {bar.interval.code}, series is {interval.code}")
            rows = by_chunk.setdefault(chunk_start(interval, bar.time), {})
            rows[bar.time] = (bar.open, bar.high, bar.low, bar.close, bar.volume, int(bar.partial))
        if not by_chunk:
            return 0
        known = {start for start, _ in await self._directory(key)}
        fresh = [start for start in by_chunk if start not in known]
        if fresh:  # register before inserting, so a crash in between cannot hide stored bars
            await self._series.update_one(
                {"_id": series_id(key)},
                {"$max": {f"chunks.{s}.n": 0 for s in fresh}, "$setOnInsert": _series_fields(key)},
                upsert=True,
            )
        results = await asyncio.gather(
            *(self._upsert_chunk(key, s, rows, s not in known) for s, rows in by_chunk.items())
        )
        await self._record_stats(key, {s: stats for s, (_, stats) in zip(by_chunk, results, strict=True)})
        return sum(changed for changed, _ in results)

    async def _upsert_chunk(
        self, key: SeriesKey, start: int, rows: dict[int, Row], fresh: bool
    ) -> tuple[int, tuple[int, int, int]]:
        _id = chunk_id(key, start)
        for _ in range(self.max_retries):
            doc = None if fresh else await self.chunk_collection(key).find_one({"_id": _id})
            fresh = False  # after a lost race, always read what the other writer stored
            existing = ChunkColumns.decode(doc) if doc is not None else None
            merged, changed = merge_chunk(existing, rows)
            stats = (len(merged), merged.t[0], merged.t[-1])
            if changed == 0:
                return 0, stats
            if doc is None:
                if await self._insert_chunk(key, start, merged):
                    return changed, stats
            elif await self._replace_if_unchanged(key, _id, doc["version"], merged):
                return changed, stats
            self.write_conflicts += 1
        raise Conflict(f"{key}: chunk {start} kept changing; gave up after {self.max_retries} attempts")

    async def _insert_chunk(self, key: SeriesKey, start: int, merged: ChunkColumns) -> bool:
        doc = {
            "_id": chunk_id(key, start),
            **_series_fields(key),
            "start": start,
            "end": chunk_end(key.interval, start),
            "version": 1,
            "writer": uuid.uuid4().hex,
            **_stats_fields(merged),
            **merged.encode(),
        }
        try:
            await self.chunk_collection(key).insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def _replace_if_unchanged(self, key: SeriesKey, _id: str, version: int, merged: ChunkColumns) -> bool:
        token = uuid.uuid4().hex
        unchanged: dict[str, Any] = {"$eq": ["$version", version]}
        fields: dict[str, Any] = {**_stats_fields(merged), **merged.encode()}
        update: dict[str, Any] = {
            name: {"$cond": [unchanged, {"$literal": value}, f"${name}"]} for name, value in fields.items()
        }
        update["version"] = {"$cond": [unchanged, version + 1, "$version"]}
        update["writer"] = {"$cond": [unchanged, token, "$writer"]}
        after = await self.chunk_collection(key).find_one_and_update(
            {"_id": _id},
            [{"$set": update}],
            projection={"_id": 0, "writer": 1},
            return_document=ReturnDocument.AFTER,
        )
        return after is not None and after.get("writer") == token

    async def _record_stats(self, key: SeriesKey, stats: dict[int, tuple[int, int, int]]) -> None:
        high: dict[str, int] = {}
        low: dict[str, int] = {}
        for start, (n, first, last) in stats.items():
            high[f"chunks.{start}.n"] = n
            high[f"chunks.{start}.last"] = last
            low[f"chunks.{start}.first"] = first
        await self._series.update_one(
            {"_id": series_id(key)},
            {"$max": high, "$min": low, "$setOnInsert": _series_fields(key)},
            upsert=True,
        )

    @translate_errors
    async def remove(self, key: SeriesKey, times: Sequence[int]) -> int:
        by_chunk: dict[int, set[int]] = {}
        for t in times:
            by_chunk.setdefault(chunk_start(key.interval, t), set()).add(t)
        known = {start for start, _ in await self._directory(key)}
        results = await asyncio.gather(*(self._remove_from_chunk(key, s, doomed) for s, doomed in by_chunk.items()
                                         if s in known))
        changed = [(start, stats) for removed, start, stats in results if removed]
        kept = {f"chunks.{s}.{name}": value for s, stats in changed if stats is not None
                for name, value in zip(("n", "first", "last"), stats, strict=True)}
        emptied = {f"chunks.{s}": "" for s, stats in changed if stats is None}
        update = {operator: fields for operator, fields in (("$set", kept), ("$unset", emptied)) if fields}
        if update:
            await self._series.update_one({"_id": series_id(key)}, update)
        return sum(removed for removed, _, _ in results)

    async def _remove_from_chunk(
        self, key: SeriesKey, start: int, doomed: set[int]
    ) -> tuple[int, int, tuple[int, int, int] | None]:
        """(bars removed, chunk start, the chunk's stats after, None when it is left empty and deleted)."""
        _id = chunk_id(key, start)
        for _ in range(self.max_retries):
            doc = await self.chunk_collection(key).find_one({"_id": _id})
            rows = ChunkColumns.decode(doc).to_rows() if doc is not None else {}
            removed = sum(rows.pop(t, None) is not None for t in doomed)
            if not removed:
                return 0, start, None
            assert doc is not None
            if not rows:
                deleted = await self.chunk_collection(key).delete_one({"_id": _id, "version": doc["version"]})
                if deleted.deleted_count:
                    return removed, start, None
            else:
                kept = ChunkColumns.from_rows(rows)
                if await self._replace_if_unchanged(key, _id, doc["version"], kept):
                    return removed, start, (len(kept), kept.t[0], kept.t[-1])
            self.write_conflicts += 1
        raise Conflict(f"{key}: chunk {start} kept changing; gave up after {self.max_retries} attempts")

    # --- reads -----------------------------------------------------------------------------------

    async def _directory(self, key: SeriesKey) -> list[tuple[int, dict[str, int]]]:
        doc = await self._series.find_one({"_id": series_id(key)})
        self.docs_fetched += doc is not None
        if doc is None:
            return []
        return sorted((int(start), entry) for start, entry in doc.get("chunks", {}).items())

    async def _fetch(self, key: SeriesKey, starts: Sequence[int], projection: Any = None) -> list[dict[str, Any]]:
        chunks = self.chunk_collection(key)
        docs = await asyncio.gather(*(chunks.find_one({"_id": chunk_id(key, s)}, projection) for s in starts))
        found = [d for d in docs if d is not None]
        self.docs_fetched += len(found)
        return found

    @translate_errors
    async def read(
        self,
        key: SeriesKey,
        *,
        start: int | None = None,
        end: int | None = None,
        limit: int | None = None,
        descending: bool = False,
    ) -> BarColumns:
        lo = 0 if start is None else start
        hi = (1 << 62) if end is None else end
        if (limit is not None and limit <= 0) or lo > hi:
            return _columns(key, [], descending, limit)
        interval = key.interval
        candidates = [s for s, _ in await self._directory(key) if s <= hi and chunk_end(interval, s) > lo]
        if limit is None:
            chunks = [ChunkColumns.decode(d) for d in await self._fetch(key, candidates)]
            return _columns(key, [_slice(c, lo, hi) for c in sorted(chunks, key=_first_time)], descending, None)
        return _columns(key, await self._newest(key, candidates, lo, hi, limit), descending, limit)

    async def _newest(self, key: SeriesKey, candidates: list[int], lo: int, hi: int, limit: int) -> list[ChunkColumns]:
        """Walk chunks newest-first, fetching a few at a time, until `limit` bars are in hand."""
        per_chunk = nominal_bars(key.interval)
        pieces: list[ChunkColumns] = []
        have = 0
        remaining = candidates[::-1]
        while remaining and have < limit:
            take = max(1, -(-(limit - have) // per_chunk) + (1 if not pieces else 0))
            batch, remaining = remaining[:take], remaining[take:]
            fetched = [ChunkColumns.decode(d) for d in await self._fetch(key, batch)]
            for chunk in sorted(fetched, key=_first_time, reverse=True):
                piece = _slice(chunk, lo, hi)
                pieces.append(piece)
                have += len(piece)
        return pieces[::-1]

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

    async def _complete_stats(
        self, key: SeriesKey, directory: list[tuple[int, dict[str, int]]]
    ) -> list[tuple[int, int, int]]:
        """(n, first, last) per non-empty chunk in time order; chunks whose directory entry was never
        completed (a writer stopped between insert and stats) are read from the chunk itself."""
        incomplete = [s for s, e in directory if not e.get("n") or "first" not in e or "last" not in e]
        repaired = {}
        if incomplete:
            for doc in await self._fetch(key, incomplete, {"n": 1, "first": 1, "last": 1, "start": 1}):
                repaired[doc["start"]] = {"n": doc["n"], "first": doc["first"], "last": doc["last"]}
        entries = []
        for s, entry in directory:
            e = repaired.get(s, entry)
            if e.get("n"):
                entries.append((s, e["n"], e["first"], e["last"]))
        return [(n, first, last) for _, n, first, last in entries]

    async def _gaps(self, key: SeriesKey, entries: list[tuple[int, int, int]]) -> list[tuple[int, int]]:
        """The domain's gap rule over the series' stretches of consecutive bars: a complete chunk is one
        stretch (first, last); only chunks with holes are read to find theirs."""
        step = key.interval.seconds
        holey = [first for n, first, last in entries if n < (last - first) // step + 1]
        inner: dict[int, list[tuple[int, int]]] = {}
        if holey:
            docs = await self._fetch(key, [chunk_start(key.interval, f) for f in holey], {"t": 1, "first": 1})
            inner = {doc["first"]: runs(decode_times(doc["t"]), key.interval) for doc in docs}
        stretches = [stretch for _, first, last in entries for stretch in inner.get(first, [(first, last)])]
        return gaps_between(stretches, key.interval)

def _series_fields(key: SeriesKey) -> dict[str, str]:
    return {"source": key.source, "exchange": key.symbol.exchange, "symbol": key.symbol.code,
            "interval": key.interval.code}


def _stats_fields(chunk: ChunkColumns) -> dict[str, int]:
    return {"n": len(chunk), "first": chunk.t[0], "last": chunk.t[-1]}


def _first_time(chunk: ChunkColumns) -> int:
    return chunk.t[0] if len(chunk) else -1


def _slice(chunk: ChunkColumns, lo: int, hi: int) -> ChunkColumns:
    i, j = bisect_left(chunk.t, lo), bisect_right(chunk.t, hi)
    if i == 0 and j == len(chunk):
        return chunk
    return ChunkColumns(*(getattr(chunk, name)[i:j] for name in ("t", *PRICE_COLUMNS)))


def _columns(key: SeriesKey, pieces: list[ChunkColumns], descending: bool, limit: int | None) -> BarColumns:
    columns = {name: [x for p in pieces for x in getattr(p, name)] for name in ("t", *PRICE_COLUMNS)}
    if limit is not None and len(columns["t"]) > limit:
        columns = {name: col[-limit:] for name, col in columns.items()}
    if descending:
        columns = {name: col[::-1] for name, col in columns.items()}
    return BarColumns(key, columns["t"], columns["o"], columns["h"], columns["l"], columns["c"], columns["v"],
                      columns["p"])


__all__ = ["CHUNKS", "SERIES", "MongoOHLCVRepository", "chunk_id", "series_id"]
