"""The symbol registry: tracked symbols, one document per (source, exchange, code) in `symbols`."""

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from src.common.ports import TrackedSymbol
from src.domain.market_data import Instrument, Interval, Symbol
from src.infrastructure.mongo.connection import translate_errors

SYMBOLS = "symbols"


class MongoSymbolRepository:
    """`SymbolRepository`: `_id` is "source:EXCHANGE:CODE" (the only unique key); times are epoch seconds as
    the caller passed them."""

    def __init__(self, database: AsyncDatabase[dict[str, Any]]) -> None:
        self._collection = database[SYMBOLS]

    @translate_errors
    async def ensure_indexes(self) -> None:
        await self._collection.create_index(
            [("source", ASCENDING), ("exchange", ASCENDING), ("code", ASCENDING)], name="source_exchange_code"
        )
        await self._collection.create_index("active", name="active")

    @translate_errors
    async def get(self, instrument: Instrument) -> TrackedSymbol | None:
        doc = await self._collection.find_one({"_id": str(instrument)})
        return _from_doc(doc) if doc is not None else None

    @translate_errors
    async def save(self, tracked: TrackedSymbol) -> None:
        await self._collection.replace_one({"_id": str(tracked.instrument)}, _to_doc(tracked), upsert=True)

    @translate_errors
    async def list(self, *, active_only: bool = True) -> list[TrackedSymbol]:
        docs = await self._collection.find({"active": True} if active_only else {}).to_list()
        return sorted((_from_doc(d) for d in docs), key=lambda t: (t.source, t.symbol.exchange, t.symbol.code))

    @translate_errors
    async def delete(self, instrument: Instrument) -> bool:
        result = await self._collection.delete_one({"_id": str(instrument)})
        return result.deleted_count == 1


def _to_doc(tracked: TrackedSymbol) -> dict[str, Any]:
    return {
        "_id": str(tracked.instrument),
        "source": tracked.source,
        "exchange": tracked.symbol.exchange,
        "code": tracked.symbol.code,
        "description": tracked.description,
        "type": tracked.type,
        "currency": tracked.currency,
        "active": tracked.active,
        "intervals": [i.code for i in tracked.intervals],
        "created_at": tracked.created_at,
        "updated_at": tracked.updated_at,
    }


def _from_doc(doc: dict[str, Any]) -> TrackedSymbol:
    return TrackedSymbol(
        symbol=Symbol(doc["exchange"], doc["code"]),
        source=doc["source"],
        description=doc.get("description", ""),
        type=doc.get("type", ""),
        currency=doc.get("currency", ""),
        active=bool(doc.get("active", True)),
        intervals=tuple(Interval.parse(code) for code in doc.get("intervals", ())),
        created_at=float(doc.get("created_at", 0.0)),
        updated_at=float(doc.get("updated_at", 0.0)),
    )
