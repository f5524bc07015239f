"""Schema migrations of the store, run in order at start-up before anything reads it.

Version 1 (PocketQuant 0.1) keyed series, sync status and tracked symbols without a source; version 2
puts the source first in every id (`tradingview:` for what 0.1 stored, its only provider) and drops the
unique indexes the `_id` already guarantees. Version 3 is the columnar layout: chunk periods sized for
large reads (a month of 1m bars instead of a day, ...), chunks and series directories in collections of
their own on the embedded store (`MongoOHLCVRepository`); every series of version 2 is copied chunk by
chunk into it through the repository's own merge, then its old chunks and directory are deleted.

Each step is idempotent — a document is upserted under its new id before the old one is deleted, a chunk
collection is copied before the old one is dropped, a series' old chunks go only once all are copied (and
copying again merges equal bars, changing nothing) — so a start-up interrupted half way finishes the job
on the next start. The version is stored in `pocketquant_schema` after each step has completed.
"""

import contextlib
from typing import Any

import structlog
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from src.domain.market_data import Interval, SeriesKey, Symbol
from src.infrastructure.mongo.chunking import decode
from src.infrastructure.mongo.connection import translate_errors
from src.infrastructure.mongo.ohlcv_repository import MongoOHLCVRepository
from src.infrastructure.mongo.symbol_repository import SYMBOLS
from src.infrastructure.mongo.sync_status_repository import SYNC_STATUS

log = structlog.get_logger(__name__)

SCHEMA = "pocketquant_schema"
CURRENT_VERSION = 3
CHUNKS = "ohlcv_chunks"  # versions 1-2: the shared chunk collection, and the prefix of per-series ones
SERIES = "ohlcv_series"  # versions 1-2: the series directories
LEGACY_SOURCE = "tradingview"  # the only provider of version 1
_LEGACY = {"source": {"$exists": False}}
_REDUNDANT_INDEXES = {SYMBOLS: "exchange_code", SYNC_STATUS: "series"}


class StoreMigrations:
    """`bars` writes the version-3 layout (the service's own repository, so the layout setting applies)."""

    def __init__(self, database: AsyncDatabase[dict[str, Any]], bars: MongoOHLCVRepository | None = None) -> None:
        self._database = database
        self._bars = bars or MongoOHLCVRepository(database)

    @translate_errors
    async def run(self) -> int:
        """Bring the store to `CURRENT_VERSION`; returns how many documents were rewritten."""
        version = await self.version()
        moved = 0
        for target, step in ((2, self._add_sources), (3, self._columnar_layout)):
            if version < target:
                moved += await step()
                await self._database[SCHEMA].replace_one(
                    {"_id": "schema"}, {"_id": "schema", "version": target}, upsert=True
                )
                log.info("store_migrated", version=target, documents=moved)
        return moved

    async def version(self) -> int:
        doc = await self._database[SCHEMA].find_one({"_id": "schema"})
        return int(doc["version"]) if doc else 1

    async def _add_sources(self) -> int:
        for name, index in _REDUNDANT_INDEXES.items():
            with contextlib.suppress(OperationFailure):  # absent already
                await self._database[name].drop_index(index)
        moved = 0
        for name in (SYMBOLS, SYNC_STATUS, SERIES, CHUNKS):
            moved += await _rekey(self._database[name], self._database[name])
        for name in await self._database.list_collection_names():
            if _is_legacy_chunk_collection(name):
                moved += await self._move_chunks(name)
        return moved

    async def _move_chunks(self, name: str) -> int:
        series = name.removeprefix(CHUNKS + ".")
        moved = await _rekey(self._database[name], self._database[f"{CHUNKS}.{LEGACY_SOURCE}:{series}"])
        await self._database.drop_collection(name)
        return moved


    async def _columnar_layout(self) -> int:
        names = set(await self._database.list_collection_names())
        if SERIES not in names:
            return 0
        directories = self._database[SERIES]
        moved = 0
        for series in [doc["_id"] for doc in await directories.find({}, {"_id": 1}).to_list()]:
            directory = await directories.find_one({"_id": series})
            if directory is not None:
                moved += await self._copy_series(directory, names)
        await self._database.drop_collection(SERIES)
        return moved

    async def _copy_series(self, directory: dict[str, Any], names: set[str]) -> int:
        """Copy one version-2 series into the new layout, then delete its old chunks and directory."""
        series = directory["_id"]
        key = SeriesKey(Symbol(directory["exchange"], directory["symbol"]), Interval.parse(directory["interval"]),
                        directory["source"])
        own = f"{CHUNKS}.{series}"
        old = self._database[own if own in names else CHUNKS]
        old_ids = [f"{series}:{start}" for start in sorted(directory.get("chunks", {}), key=int)]
        copied = 0
        for old_id in old_ids:  # one chunk at a time: bounded memory whatever the series' size
            chunk = await old.find_one({"_id": old_id})
            if chunk is not None:
                await self._bars.upsert(key, decode(key, chunk))
                copied += 1
        if old.name == own:
            await self._database.drop_collection(own)
        else:
            await old.delete_many({"_id": {"$in": old_ids}})
        await self._database[SERIES].delete_one({"_id": series})
        return copied


def _is_legacy_chunk_collection(name: str) -> bool:
    prefix = CHUNKS + "."
    return name.startswith(prefix) and name.removeprefix(prefix).count(":") == 2  # EXCHANGE:CODE:interval


async def _rekey(source: AsyncCollection[dict[str, Any]], target: AsyncCollection[dict[str, Any]]) -> int:
    moved = 0
    legacy_ids = [doc["_id"] for doc in await source.find(_LEGACY, {"_id": 1}).to_list()]
    for old_id in legacy_ids:  # one document at a time: chunks are large
        doc = await source.find_one({"_id": old_id})
        if doc is None:
            continue
        new_id = f"{LEGACY_SOURCE}:{old_id}"
        await target.replace_one({"_id": new_id}, {**doc, "_id": new_id, "source": LEGACY_SOURCE}, upsert=True)
        await source.delete_one({"_id": old_id})
        moved += 1
    return moved
