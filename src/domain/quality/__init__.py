"""Data quality: checks over a series' bars, anomalies (flagged, never deleted), scores, reconciliation."""

from src.domain.quality.events import DataQualityIssueEvent, SeriesIdentity, anomaly_issue, quality_issues_raised
from src.domain.quality.flags import AnomalyFlag, FlagChange, FlagState
from src.domain.quality.live import LiveBaseline, check_closed_bar
from src.domain.quality.model import (
    Anomaly,
    CheckContext,
    CheckResult,
    InvalidQualityInput,
    QualityThresholds,
    SeriesColumns,
    Severity,
)
from src.domain.quality.reconciliation import Reconciliation, ReconciliationPolicy, bars_to_write, reconcile
from src.domain.quality.report import QualityReport, SeriesScore, aggregate_scores, run_checks

__all__ = [
    "Anomaly",
    "AnomalyFlag",
    "CheckContext",
    "CheckResult",
    "DataQualityIssueEvent",
    "FlagChange",
    "FlagState",
    "InvalidQualityInput",
    "LiveBaseline",
    "QualityReport",
    "QualityThresholds",
    "Reconciliation",
    "ReconciliationPolicy",
    "SeriesColumns",
    "SeriesIdentity",
    "SeriesScore",
    "Severity",
    "aggregate_scores",
    "anomaly_issue",
    "bars_to_write",
    "check_closed_bar",
    "quality_issues_raised",
    "reconcile",
    "run_checks",
]
