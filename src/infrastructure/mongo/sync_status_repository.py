"""Sync status per series, one document per (source, exchange, symbol, interval) in `sync_status`.

A conditional save (`expected_revision`) is one atomic write filtered on the stored `revision` (documents
written before revisions existed count as revision 0), or an insert that a concurrent insert makes fail:
two processes never overwrite each other's run."""

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from src.common.ports import SyncStatusFilter
from src.domain.market_data import Interval, SeriesKey, Symbol
from src.domain.sync.status import SyncState, SyncStatus
from src.infrastructure.mongo.connection import translate_errors
from src.infrastructure.mongo.ohlcv_repository import series_id

SYNC_STATUS = "sync_status"
_ORDER = {interval: i for i, interval in enumerate(Interval)}


class MongoSyncStatusRepository:
    """`SyncStatusRepository`: `_id` is the series id ("source:EXCHANGE:CODE:interval"), which is the only
    unique key (a second unique index would only cost every save a lookup); transitions are checked by
    `SyncState`."""

    def __init__(self, database: AsyncDatabase[dict[str, Any]]) -> None:
        self._collection = database[SYNC_STATUS]

    @translate_errors
    async def ensure_indexes(self) -> None:
        await self._collection.create_index(
            [("source", ASCENDING), ("exchange", ASCENDING), ("symbol", ASCENDING), ("interval", ASCENDING)],
            name="series_fields",
        )
        await self._collection.create_index("status", name="status")

    @translate_errors
    async def get(self, key: SeriesKey) -> SyncState | None:
        doc = await self._collection.find_one({"_id": series_id(key)})
        return _from_doc(doc) if doc is not None else None

    @translate_errors
    async def save(self, state: SyncState, *, expected_revision: int | None = None) -> bool:
        doc = _to_doc(state)
        if expected_revision is None:
            await self._collection.replace_one({"_id": doc["_id"]}, doc, upsert=True)
            return True
        revision: Any = {"$in": [0, None]} if expected_revision == 0 else expected_revision
        result = await self._collection.replace_one({"_id": doc["_id"], "revision": revision}, doc)
        if result.matched_count == 1:
            return True
        if expected_revision != 0:
            return False
        try:
            await self._collection.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    @translate_errors
    async def list(self, where: SyncStatusFilter) -> list[SyncState]:
        query: dict[str, Any] = {}
        if where.source is not None:
            query["source"] = where.source
        if where.exchange is not None:
            query["exchange"] = where.exchange.upper()
        if where.symbol is not None:
            query["symbol"] = where.symbol.upper()
        if where.interval is not None:
            query["interval"] = where.interval.code
        if where.status is not None:
            query["status"] = where.status.value
        docs = await self._collection.find(query).to_list()
        states = [_from_doc(doc) for doc in docs]
        return sorted(states, key=lambda s: (s.key.source, s.key.symbol.exchange, s.key.symbol.code,
                                             _ORDER[s.key.interval]))


def _to_doc(state: SyncState) -> dict[str, Any]:
    return {
        "_id": series_id(state.key),
        "source": state.key.source,
        "exchange": state.key.symbol.exchange,
        "symbol": state.key.symbol.code,
        "interval": state.key.interval.code,
        "status": state.status.value,
        "requested_at": state.requested_at,
        "started_at": state.started_at,
        "finished_at": state.finished_at,
        "bars_written": state.bars_written,
        "error": state.error,
        "owner": state.owner,
        "lease_until": state.lease_until,
        "revision": state.revision,
        "source_gaps": [[first, last] for first, last in state.source_gaps],
        "source_first_bar": state.source_first_bar,
    }


def _from_doc(doc: dict[str, Any]) -> SyncState:
    return SyncState(
        key=SeriesKey(Symbol(doc["exchange"], doc["symbol"]), Interval.parse(doc["interval"]), doc["source"]),
        status=SyncStatus(doc["status"]),
        requested_at=doc.get("requested_at"),
        started_at=doc.get("started_at"),
        finished_at=doc.get("finished_at"),
        bars_written=int(doc.get("bars_written", 0)),
        error=doc.get("error"),
        owner=doc.get("owner"),
        lease_until=doc.get("lease_until"),
        revision=int(doc.get("revision") or 0),
        source_gaps=tuple((int(a), int(b)) for a, b in doc.get("source_gaps") or ()),
        source_first_bar=doc.get("source_first_bar"),
    )
