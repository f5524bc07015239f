"""What each source said of each instrument, one document per (source, exchange, code) in `symbol_metadata`:
time zone, regular and extended sessions (TradingView's strings), delay, type, currency, and the user's
choice of extended hours."""

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from src.domain.market_data import Instrument, Symbol
from src.domain.market_data.trading_hours import SessionSpec, SymbolMetadata
from src.infrastructure.mongo.connection import translate_errors

SYMBOL_METADATA = "symbol_metadata"


class MongoSymbolMetadataRepository:
    """`SymbolMetadataRepository`: `_id` is "source:EXCHANGE:CODE", as for tracked symbols."""

    def __init__(self, database: AsyncDatabase[dict[str, Any]]) -> None:
        self._collection = database[SYMBOL_METADATA]

    @translate_errors
    async def get(self, instrument: Instrument) -> SymbolMetadata | None:
        doc = await self._collection.find_one({"_id": str(instrument)})
        return from_doc(doc) if doc is not None else None

    @translate_errors
    async def save(self, metadata: SymbolMetadata) -> None:
        await self._collection.replace_one({"_id": str(metadata.instrument)}, to_doc(metadata), upsert=True)


def to_doc(metadata: SymbolMetadata) -> dict[str, Any]:
    instrument = metadata.instrument
    return {
        "_id": str(instrument),
        "source": instrument.source,
        "exchange": instrument.symbol.exchange,
        "code": instrument.symbol.code,
        "timezone": metadata.timezone,
        "regular": _spec_doc(metadata.regular),
        "extended": None if metadata.extended is None else _spec_doc(metadata.extended),
        "delay": metadata.delay,
        "type": metadata.type,
        "currency": metadata.currency,
        "description": metadata.description,
        "extended_hours": metadata.extended_hours,
        "refreshed_at": metadata.refreshed_at,
    }


def from_doc(doc: dict[str, Any]) -> SymbolMetadata:
    extended = doc.get("extended")
    return SymbolMetadata(
        instrument=Instrument(doc["source"], Symbol(doc["exchange"], doc["code"])),
        timezone=str(doc.get("timezone", "")),
        regular=_spec(doc.get("regular") or {}),
        extended=_spec(extended) if extended else None,
        delay=int(doc.get("delay", 0)),
        type=str(doc.get("type", "")),
        currency=str(doc.get("currency", "")),
        description=str(doc.get("description", "")),
        extended_hours=bool(doc.get("extended_hours", False)),
        refreshed_at=float(doc.get("refreshed_at", 0.0)),
    )


def _spec_doc(spec: SessionSpec) -> dict[str, str]:
    return {"session": spec.session, "holidays": spec.holidays, "corrections": spec.corrections}


def _spec(doc: dict[str, Any]) -> SessionSpec:
    return SessionSpec(str(doc.get("session", "24x7")), str(doc.get("holidays", "")),
                       str(doc.get("corrections", "")))
