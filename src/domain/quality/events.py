"""`DataQualityIssueEvent`: a check found a problem with a series (for webhooks, alerts, metrics).

Raised when a check fails that passed (or did not run) at the series' previous check, so a series that
stays broken does not repeat the event on every write; and, on the live path, once per new anomaly.
"""

from dataclasses import dataclass

from src.domain.events import DomainEvent
from src.domain.quality.model import Anomaly, CheckResult, Severity
from src.domain.quality.report import QualityReport


@dataclass(frozen=True, slots=True, kw_only=True)
class DataQualityIssueEvent(DomainEvent):
    source: str  # provider id, e.g. "tradingview"
    symbol: str  # ticker, e.g. "NASDAQ:AAPL"
    interval: str  # interval code, e.g. "1h"
    check: str
    severity: Severity
    detail: str
    bar_time: int | None = None  # the first flagged bar, when there is one


@dataclass(frozen=True, slots=True, kw_only=True)
class SeriesIdentity:
    source: str
    symbol: str
    interval: str


def _summary(result: CheckResult) -> str:
    first = f"; first: {result.anomalies[0].detail}" if result.anomalies else ""
    return (
        f"{result.name} failed: value {result.value:g} (threshold {result.threshold:g}), "
        f"{len(result.anomalies)} anomalies{first}"
    )


def quality_issues_raised(
    previous: QualityReport | None,
    current: QualityReport,
    series: SeriesIdentity,
    *,
    occurred_at: float,
    correlation_id: str | None = None,
) -> tuple[DataQualityIssueEvent, ...]:
    """One event per check that fails in `current` and did not fail in `previous`."""
    failed_before = {result.name for result in previous.failed} if previous else set()
    return tuple(
        DataQualityIssueEvent(
            occurred_at=occurred_at, correlation_id=correlation_id, source=series.source, symbol=series.symbol,
            interval=series.interval, check=result.name, severity=result.severity, detail=_summary(result),
            bar_time=result.anomalies[0].bar_time if result.anomalies else None,
        )
        for result in current.failed
        if result.name not in failed_before
    )


def anomaly_issue(
    anomaly: Anomaly, series: SeriesIdentity, *, occurred_at: float, correlation_id: str | None = None
) -> DataQualityIssueEvent:
    """The event of one anomaly found on the live path (`check_closed_bar`)."""
    return DataQualityIssueEvent(
        occurred_at=occurred_at, correlation_id=correlation_id, source=series.source, symbol=series.symbol,
        interval=series.interval, check=anomaly.check, severity=anomaly.severity, detail=anomaly.detail,
        bar_time=anomaly.bar_time,
    )
