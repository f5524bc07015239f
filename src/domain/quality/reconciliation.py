"""Reconciliation of bars built live against the source's history of the same period (`live_vs_source`).

Rules:
* Bars are matched by open time. The relative error of a field is |live - source| / max(|live|, |source|)
  (0 when both are 0; for small errors it equals the usual error relative to the source, and it stays
  finite when the source's value is 0). A matched bar differs when any price (open, high, low, close)
  errs by more than `reconcile_price_tolerance` or its volume by more than `reconcile_volume_tolerance`.
* `live_vs_source` (warning) reports one anomaly per differing bar and per live bar the source lacks; its
  value counts those and the source's bars the live series lacks; it passes when that is 0.
* Policy (`ReconciliationPolicy`), applied by `bars_to_write`, which never deletes a bar:
  `keep_live` writes only the source's bars for periods the live series lacks; `replace_with_source`
  also overwrites every differing live bar with the source's. Live bars the source lacks are kept.
"""

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from src.domain.quality.model import (
    Anomaly,
    CheckResult,
    Floats,
    Mask,
    QualityThresholds,
    SeriesColumns,
    Severity,
    Times,
)

FIELDS = ("open", "high", "low", "close", "volume")


class ReconciliationPolicy(StrEnum):
    KEEP_LIVE = "keep_live"
    REPLACE_WITH_SOURCE = "replace_with_source"


@dataclass(frozen=True, slots=True)
class FieldDifference:
    field: str
    differing_bars: int
    max_relative_error: float


@dataclass(frozen=True, slots=True, eq=False)
class Reconciliation:
    """How the live bars of a period compare with the source's: per field, and which bars differ."""

    compared_bars: int
    fields: tuple[FieldDifference, ...]
    differing_times: Times  # matched bars that differ beyond tolerance
    only_live_times: Times  # live bars the source does not have
    only_source_times: Times  # source bars the live series does not have
    anomalies: tuple[Anomaly, ...]

    @property
    def differing_bars(self) -> int:
        return len(self.differing_times) + len(self.only_live_times) + len(self.only_source_times)

    def check_result(self) -> CheckResult:
        return CheckResult(
            name="live_vs_source", severity=Severity.WARNING, passed=self.differing_bars == 0,
            value=float(self.differing_bars), threshold=0.0, affected_bars=self.differing_bars,
            anomalies=self.anomalies,
        )


def relative_error(live: Floats, source: Floats) -> Floats:
    scale = np.maximum(np.abs(live), np.abs(source))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(scale > 0, np.abs(live - source) / scale, 0.0)


def _tolerances(thresholds: QualityThresholds) -> tuple[float, ...]:
    return (*(thresholds.reconcile_price_tolerance,) * 4, thresholds.reconcile_volume_tolerance)


def _differing_anomaly(
    time: int, live: dict[str, float], source: dict[str, float], errors: dict[str, float]
) -> Anomaly:
    values = {f"{name}_{side}": row[name] for name in errors for side, row in (("live", live), ("source", source))}
    worst = max(errors, key=errors.__getitem__)
    return Anomaly(
        check="live_vs_source", severity=Severity.WARNING, bar_time=time,
        values={**values, "max_relative_error": errors[worst]},
        detail=f"live bar differs from the source's in {', '.join(errors)} (worst: {worst})",
    )


def _row(columns: SeriesColumns, at: int) -> dict[str, float]:
    return {name: float(column[at]) for name, column in zip(FIELDS, columns.price_columns, strict=True)}


def _only_live_anomaly(live: SeriesColumns, at: int) -> Anomaly:
    return Anomaly(
        check="live_vs_source", severity=Severity.WARNING, bar_time=int(live.time[at]), values=_row(live, at),
        detail="live bar the source does not have",
    )


def reconcile(live: SeriesColumns, source: SeriesColumns, thresholds: QualityThresholds) -> Reconciliation:
    times, at_live, at_source = np.intersect1d(live.time, source.time, assume_unique=True, return_indices=True)
    pairs = zip(live.price_columns, source.price_columns, strict=True)
    errors = [relative_error(live_column[at_live], source_column[at_source]) for live_column, source_column in pairs]
    beyond: list[Mask] = [error > tol for error, tol in zip(errors, _tolerances(thresholds), strict=True)]
    fields = tuple(
        FieldDifference(name, int(mask.sum()), float(error.max()) if len(error) else 0.0)
        for name, error, mask in zip(FIELDS, errors, beyond, strict=True)
    )
    differing = np.flatnonzero(np.logical_or.reduce(beyond)) if len(times) else np.empty(0, np.intp)
    anomalies = [
        _differing_anomaly(
            int(times[k]), _row(live, int(at_live[k])), _row(source, int(at_source[k])),
            {name: float(error[k]) for name, error, mask in zip(FIELDS, errors, beyond, strict=True) if mask[k]},
        )
        for k in differing
    ]
    only_live = np.flatnonzero(~np.isin(live.time, times, assume_unique=True))
    anomalies += [_only_live_anomaly(live, int(at)) for at in only_live]
    return Reconciliation(
        compared_bars=len(times), fields=fields, differing_times=times[differing],
        only_live_times=live.time[only_live], only_source_times=np.setdiff1d(source.time, times, assume_unique=True),
        anomalies=tuple(sorted(anomalies, key=lambda anomaly: anomaly.bar_time)),
    )


def live_vs_source(live: SeriesColumns, source: SeriesColumns, thresholds: QualityThresholds) -> CheckResult:
    return reconcile(live, source, thresholds).check_result()


def bars_to_write(
    reconciliation: Reconciliation, source: SeriesColumns, policy: ReconciliationPolicy
) -> SeriesColumns:
    """The source's bars to write over the live series under `policy` (see the module's rules)."""
    replaced = reconciliation.only_source_times
    if policy is ReconciliationPolicy.REPLACE_WITH_SOURCE:
        replaced = np.union1d(replaced, reconciliation.differing_times)
    return source.take(np.isin(source.time, replaced, assume_unique=True))
