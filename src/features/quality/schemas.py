"""Requests and responses of the quality slice (pydantic, HTTP only)."""

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from src.common.time_format import iso_utc, iso_utc_or_none
from src.domain.quality import AnomalyFlag, CheckResult, FlagState
from src.domain.quality.report import WEIGHTS
from src.domain.quality.series import ReconciliationRecord, ScorePoint
from src.features.quality.handlers import QualitySummary, SeriesQualityPage
from src.features.shared.series_params import SOURCE_PATTERN, SeriesParams

CHECKS = sorted(WEIGHTS)
_CHECK_ENUM: dict[str, Any] = {"enum": CHECKS}
MAX_PAGE = 1_000


class SeriesQualityParams(SeriesParams):
    """Query of `GET /quality/{exchange}/{symbol}`."""

    offset: int = Field(default=0, ge=0, le=1_000_000, description="flags to skip (newest bar first)")
    limit: int = Field(default=100, ge=1, le=MAX_PAGE, description="flags per page")
    state: Literal["open", "confirmed", "cleared"] | None = Field(default=None, description="only flags in this state")
    check: str | None = Field(default=None, max_length=64, description="only flags of this check")
    history: int = Field(default=50, ge=0, le=10_000, description="newest score history entries to return")


class SummaryParams(BaseModel):
    model_config = ConfigDict(extra="ignore")

    source: str | None = Field(default=None, pattern=SOURCE_PATTERN, description="only this source's series")
    limit: int = Field(default=100, ge=1, le=MAX_PAGE, description="series listed (worst first)")


class FlagVerdictRequest(BaseModel):
    """A verdict on one flag: `confirmed` (the bar is bad) or `cleared` (a false positive)."""

    model_config = ConfigDict(extra="forbid")

    check: str = Field(max_length=64, examples=["price_spikes"], json_schema_extra=_CHECK_ENUM)
    bar_time: int = Field(ge=0, description="the flag's first bar open time, epoch seconds", strict=True)
    verdict: Literal["confirmed", "cleared"]


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


class CheckBody(BaseModel):
    name: str
    severity: str
    passed: bool
    value: float | None = Field(description="what the check measured (see the README's table)")
    threshold: float | None
    affected_bars: int

    @classmethod
    def of(cls, result: CheckResult) -> "CheckBody":
        return cls(name=result.name, severity=result.severity.value, passed=result.passed,
                   value=_finite(result.value), threshold=_finite(result.threshold), affected_bars=result.affected_bars)


class FlagBody(BaseModel):
    check: str
    severity: str
    bar_time: int
    timestamp: str
    last_bar_time: int | None = Field(description="the last bar a run or missing range covers")
    values: dict[str, float | None]
    detail: str
    state: str
    excludes_bars: bool = Field(description="whether exclude_flagged=true leaves its bars out")
    flagged_at: str
    changed_at: str
    last_change: str | None

    @classmethod
    def of(cls, flag: AnomalyFlag) -> "FlagBody":
        anomaly = flag.anomaly
        return cls(
            check=anomaly.check, severity=anomaly.severity.value, bar_time=anomaly.bar_time,
            timestamp=iso_utc(anomaly.bar_time), last_bar_time=anomaly.last_bar_time,
            values={name: _finite(value) for name, value in anomaly.values.items()}, detail=anomaly.detail,
            state=str(flag.state), excludes_bars=flag.excluded_span is not None, flagged_at=iso_utc(flag.flagged_at),
            changed_at=iso_utc(flag.changed_at),
            last_change=None if flag.last_change is None else flag.last_change.value,
        )


class ScorePointBody(BaseModel):
    checked_at: str
    score: float
    bar_count: int
    failed: list[str]

    @classmethod
    def of(cls, point: ScorePoint) -> "ScorePointBody":
        return cls(checked_at=iso_utc(point.checked_at), score=round(point.score, 3), bar_count=point.bar_count,
                   failed=list(point.failed))


class FieldDifferenceBody(BaseModel):
    field: str
    differing_bars: int
    max_relative_error: float


class ReconciliationBody(BaseModel):
    reconciled_at: str
    first_bar_time: int
    last_bar_time: int
    compared_bars: int
    differing_bars: int = Field(description="matched bars beyond tolerance plus bars only one side has")
    fields: list[FieldDifferenceBody]
    policy: str
    bars_replaced: int = Field(description="live bars overwritten with the source's (replace_with_source)")

    @classmethod
    def of(cls, record: ReconciliationRecord) -> "ReconciliationBody":
        return cls(
            reconciled_at=iso_utc(record.reconciled_at), first_bar_time=record.first_bar_time,
            last_bar_time=record.last_bar_time, compared_bars=record.compared_bars,
            differing_bars=record.differing_bars, policy=record.policy, bars_replaced=record.bars_replaced,
            fields=[FieldDifferenceBody(field=f.field, differing_bars=f.differing_bars,
                                        max_relative_error=f.max_relative_error) for f in record.fields],
        )


class AnomalyPage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[FlagBody]


class SeriesQualityBody(BaseModel):
    source: str
    exchange: str
    symbol: str
    interval: str
    score: float = Field(description="0-100; the README documents the weights")
    checked_at: str | None
    bar_count: int
    checks_passed: list[str]
    checks_failed: list[str]
    checks: list[CheckBody]
    rejected_upstream: int = Field(description="the source's bars that could not be stored, over every sync")
    live_since: int | None = Field(description="first live-built bar not reconciled with the source yet")
    reconciliation: ReconciliationBody | None
    anomalies: AnomalyPage
    history: list[ScorePointBody]

    @classmethod
    def of(cls, page: SeriesQualityPage) -> "SeriesQualityBody":
        key, quality = page.key, page.quality
        return cls(
            source=key.source, exchange=key.symbol.exchange, symbol=key.symbol.code, interval=key.interval.code,
            score=round(quality.score, 3), checked_at=iso_utc_or_none(quality.checked_at), bar_count=quality.bar_count,
            checks_passed=[r.name for r in quality.results if r.passed], checks_failed=list(quality.failed),
            checks=[CheckBody.of(r) for r in quality.results], rejected_upstream=quality.rejected_upstream,
            live_since=quality.live_since,
            reconciliation=None if quality.reconciliation is None else ReconciliationBody.of(quality.reconciliation),
            anomalies=AnomalyPage(total=page.total_flags, offset=page.offset, limit=page.limit,
                                  items=[FlagBody.of(flag) for flag in page.flags]),
            history=[ScorePointBody.of(point) for point in quality.history],
        )


class SeriesSummaryBody(BaseModel):
    source: str
    exchange: str
    symbol: str
    interval: str
    score: float
    bar_count: int
    checked_at: str | None
    checks_failed: list[str]


class QualitySummaryBody(BaseModel):
    total: int = Field(description="series checked (before the limit)")
    sources: dict[str, float] = Field(description="each source's score: its series' scores weighted by their bars")
    series: list[SeriesSummaryBody] = Field(description="worst score first")

    @classmethod
    def of(cls, summary: QualitySummary) -> "QualitySummaryBody":
        return cls(
            total=summary.total, sources={source: round(score, 3) for source, score in summary.sources.items()},
            series=[SeriesSummaryBody(
                source=key.source, exchange=key.symbol.exchange, symbol=key.symbol.code, interval=key.interval.code,
                score=round(quality.score, 3), bar_count=quality.bar_count,
                checked_at=iso_utc_or_none(quality.checked_at), checks_failed=list(quality.failed),
            ) for key, quality in summary.series],
        )


def flag_state(state: str | None) -> FlagState | None:
    return None if state is None else FlagState(state)
