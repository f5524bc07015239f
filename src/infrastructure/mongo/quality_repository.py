"""Each series' quality record, one document per series in `quality` (`_id`: the series id,
"source:EXCHANGE:CODE:interval"): latest results and score, flags (embedded, bounded by the slice), score
history (bounded), upstream rejections, the live bars owed a reconciliation and the last reconciliation."""

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from src.domain.market_data import Interval, SeriesKey, Symbol
from src.domain.quality.flags import AnomalyFlag, FlagChange, FlagState
from src.domain.quality.model import Anomaly, CheckResult, Severity
from src.domain.quality.reconciliation import FieldDifference
from src.domain.quality.series import ReconciliationRecord, ScorePoint, SeriesQuality, Span
from src.domain.quality.spikes import MoveScales
from src.infrastructure.mongo.connection import translate_errors
from src.infrastructure.mongo.ohlcv_repository import series_id

QUALITY = "quality"
_SUMMARY = {"flags": 0, "history": 0}


class MongoQualityRepository:
    """`QualityRepository`."""

    def __init__(self, database: AsyncDatabase[dict[str, Any]]) -> None:
        self._collection = database[QUALITY]

    @translate_errors
    async def get(self, key: SeriesKey) -> SeriesQuality | None:
        doc = await self._collection.find_one({"_id": series_id(key)})
        return from_doc(doc) if doc is not None else None

    @translate_errors
    async def save(self, key: SeriesKey, quality: SeriesQuality) -> None:
        doc = to_doc(key, quality)
        await self._collection.replace_one({"_id": doc["_id"]}, doc, upsert=True)

    @translate_errors
    async def list(self) -> list[tuple[SeriesKey, SeriesQuality]]:
        return [(key_of(doc), from_doc(doc)) async for doc in self._collection.find({}, _SUMMARY)]

    @translate_errors
    async def excluded_spans(self, key: SeriesKey) -> tuple[Span, ...]:
        doc = await self._collection.find_one({"_id": series_id(key)}, {"flags": 1})
        return from_doc(doc).excluded_spans() if doc is not None else ()


def to_doc(key: SeriesKey, quality: SeriesQuality) -> dict[str, Any]:
    return {
        "_id": series_id(key),
        "source": key.source,
        "exchange": key.symbol.exchange,
        "symbol": key.symbol.code,
        "interval": key.interval.code,
        "checked_at": quality.checked_at,
        "bar_count": quality.bar_count,
        "score": quality.score,
        "results": [_result_doc(result) for result in quality.results],
        "scales": {"median": quality.scales.return_median, "spread": quality.scales.return_spread,
                   "range": quality.scales.bar_range},
        "has_volume": quality.has_volume,
        "flags": [_flag_doc(flag) for flag in quality.flags],
        "history": [{"at": p.checked_at, "score": p.score, "bars": p.bar_count, "failed": list(p.failed)}
                    for p in quality.history],
        "rejected_upstream": quality.rejected_upstream,
        "live_since": quality.live_since,
        "reconciliation": None if quality.reconciliation is None else _reconciliation_doc(quality.reconciliation),
    }


def key_of(doc: dict[str, Any]) -> SeriesKey:
    return SeriesKey(Symbol(doc["exchange"], doc["symbol"]), Interval.parse(doc["interval"]), doc["source"])


def from_doc(doc: dict[str, Any]) -> SeriesQuality:
    scales = doc.get("scales") or {}
    reconciliation = doc.get("reconciliation")
    return SeriesQuality(
        checked_at=doc.get("checked_at"),
        bar_count=int(doc.get("bar_count", 0)),
        score=float(doc.get("score", 100.0)),
        results=tuple(_result(r) for r in doc.get("results", ())),
        scales=MoveScales(float(scales.get("median", 0.0)), float(scales.get("spread", 0.0)),
                          float(scales.get("range", 0.0))),
        has_volume=bool(doc.get("has_volume", False)),
        flags=tuple(_flag(f) for f in doc.get("flags", ())),
        history=tuple(ScorePoint(checked_at=int(p["at"]), score=float(p["score"]), bar_count=int(p["bars"]),
                                 failed=tuple(p.get("failed", ()))) for p in doc.get("history", ())),
        rejected_upstream=int(doc.get("rejected_upstream", 0)),
        live_since=doc.get("live_since"),
        reconciliation=None if reconciliation is None else _reconciliation(reconciliation),
    )


def _result_doc(result: CheckResult) -> dict[str, Any]:
    return {"name": result.name, "severity": result.severity.value, "passed": result.passed, "value": result.value,
            "threshold": result.threshold, "affected_bars": result.affected_bars}


def _result(doc: dict[str, Any]) -> CheckResult:
    return CheckResult(name=doc["name"], severity=Severity(doc["severity"]), passed=bool(doc["passed"]),
                       value=float(doc["value"]), threshold=float(doc["threshold"]),
                       affected_bars=int(doc.get("affected_bars", 0)))


def _flag_doc(flag: AnomalyFlag) -> dict[str, Any]:
    anomaly = flag.anomaly
    return {
        "check": anomaly.check, "severity": anomaly.severity.value, "bar_time": anomaly.bar_time,
        "last_bar_time": anomaly.last_bar_time, "values": anomaly.values, "detail": anomaly.detail,
        "state": flag.state.value, "flagged_at": flag.flagged_at, "changed_at": flag.changed_at,
        "last_change": None if flag.last_change is None else flag.last_change.value,
    }


def _flag(doc: dict[str, Any]) -> AnomalyFlag:
    anomaly = Anomaly(check=doc["check"], severity=Severity(doc["severity"]), bar_time=int(doc["bar_time"]),
                      values={k: float(v) for k, v in (doc.get("values") or {}).items()},
                      detail=str(doc.get("detail", "")), last_bar_time=doc.get("last_bar_time"))
    change = doc.get("last_change")
    return AnomalyFlag(anomaly=anomaly, state=FlagState(doc["state"]), flagged_at=int(doc["flagged_at"]),
                       changed_at=int(doc["changed_at"]), last_change=FlagChange(change) if change else None)


def _reconciliation_doc(record: ReconciliationRecord) -> dict[str, Any]:
    return {
        "at": record.reconciled_at, "first": record.first_bar_time, "last": record.last_bar_time,
        "compared": record.compared_bars, "differing": record.differing_bars, "policy": record.policy,
        "replaced": record.bars_replaced,
        "fields": [{"field": f.field, "differing": f.differing_bars, "max_relative_error": f.max_relative_error}
                   for f in record.fields],
    }


def _reconciliation(doc: dict[str, Any]) -> ReconciliationRecord:
    return ReconciliationRecord(
        reconciled_at=int(doc["at"]), first_bar_time=int(doc["first"]), last_bar_time=int(doc["last"]),
        compared_bars=int(doc["compared"]), differing_bars=int(doc["differing"]), policy=str(doc["policy"]),
        bars_replaced=int(doc["replaced"]),
        fields=tuple(FieldDifference(f["field"], int(f["differing"]), float(f["max_relative_error"]))
                     for f in doc.get("fields", ())),
    )
