"""Schema migrations of the store, run in order at start-up before anything reads it.

Version 1 (PocketQuant 0.1) keyed series, sync status and tracked symbols without a source; version 2
puts the source first in every id (`tradingview:` for what 0.1 stored, its only provider) and drops the
unique indexes the `_id` already guarantees. Each step is idempotent — a document is upserted under its
new id before the old one is deleted, a chunk collection is copied before the old one is dropped — so a
start-up interrupted half way finishes the job on the next start. The version is stored in
`pocketquant_schema` once every step has completed.
"""

import contextlib
from typing import Any

import structlog
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from src.infrastructure.mongo.connection import translate_errors
from src.infrastructure.mongo.ohlcv_repository import CHUNKS, SERIES
from src.infrastructure.mongo.symbol_repository import SYMBOLS
from src.infrastructure.mongo.sync_status_repository import SYNC_STATUS

log = structlog.get_logger(__name__)

SCHEMA = "pocketquant_schema"
CURRENT_VERSION = 2
LEGACY_SOURCE = "tradingview"  # the only provider of version 1
_LEGACY = {"source": {"$exists": False}}
_REDUNDANT_INDEXES = {SYMBOLS: "exchange_code", SYNC_STATUS: "series"}


class StoreMigrations:
    def __init__(self, database: AsyncDatabase[dict[str, Any]]) -> None:
        self._database = database

    @translate_errors
    async def run(self) -> int:
        """Bring the store to `CURRENT_VERSION`; returns how many documents were rewritten."""
        if await self.version() >= CURRENT_VERSION:
            return 0
        moved = await self._add_sources()
        await self._database[SCHEMA].replace_one(
            {"_id": "schema"}, {"_id": "schema", "version": CURRENT_VERSION}, upsert=True
        )
        log.info("store_migrated", version=CURRENT_VERSION, documents=moved)
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
