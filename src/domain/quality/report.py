"""All checks over one series, its quality score, and scores per source.

Quality score of a series (0-100):

    score = max(0, 100 - sum of the checks' penalties)
    penalty(check) = 0                                                 when no bar is affected
                   = min(cap, 1 + per_percent x 100 x affected / bars) otherwise

`affected` is the check's `affected_bars` (missing bars and stale periods count as bars), `bars` the
series' stored bars (at least 1). Any affected bar costs at least one point, so a series scores exactly
100 when no check found anything, and a check can never take off more than its cap:

| check                  | per_percent (points per 1% of bars) | cap |
|------------------------|-------------------------------------|-----|
| `ohlc_sanity`          | 10                                  | 40  |
| `price_spikes`         | 10                                  | 30  |
| `future_bars`          | 10                                  | 30  |
| `missing_session_bars` | 2                                   | 30  |
| `stale_series`         | 2                                   | 20  |
| `live_vs_source`       | 2                                   | 20  |
| `zero_volume_runs`     | 0.5                                 | 15  |
| `flat_bars_runs`       | 0.5                                 | 15  |
| `level_shifts`         | 0 (info: a real move costs nothing) | 0   |

Errors weigh five times warnings per affected bar. The score of a source is the mean of its series'
scores weighted by their bars (`aggregate_scores`); series without bars are left out.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from src.domain.quality.checks import (
    flat_bars_runs,
    future_bars,
    has_volume,
    missing_session_bars,
    ohlc_sanity,
    stale_series,
    zero_volume_runs,
)
from src.domain.quality.model import Anomaly, CheckContext, CheckResult, QualityThresholds, SeriesColumns
from src.domain.quality.reconciliation import Reconciliation
from src.domain.quality.spikes import MoveScales, move_scales, spike_checks

type Check = Callable[[SeriesColumns, CheckContext, QualityThresholds], CheckResult]

MINIMUM_PENALTY = 1.0


@dataclass(frozen=True, slots=True)
class CheckWeight:
    per_percent: float  # points per 1% of the series' bars affected
    cap: float  # the most the check can take off


WEIGHTS: dict[str, CheckWeight] = {
    "ohlc_sanity": CheckWeight(10, 40),
    "price_spikes": CheckWeight(10, 30),
    "future_bars": CheckWeight(10, 30),
    "missing_session_bars": CheckWeight(2, 30),
    "stale_series": CheckWeight(2, 20),
    "live_vs_source": CheckWeight(2, 20),
    "zero_volume_runs": CheckWeight(0.5, 15),
    "flat_bars_runs": CheckWeight(0.5, 15),
    "level_shifts": CheckWeight(0, 0),
}


def penalty(result: CheckResult, bar_count: int) -> float:
    weight = WEIGHTS[result.name]
    if not result.affected_bars or not weight.cap:
        return 0.0
    percent = 100.0 * result.affected_bars / max(bar_count, 1)
    return min(weight.cap, MINIMUM_PENALTY + weight.per_percent * percent)


def quality_score(results: Iterable[CheckResult], bar_count: int) -> float:
    return max(0.0, 100.0 - sum(penalty(result, bar_count) for result in results))


@dataclass(frozen=True, slots=True, kw_only=True)
class QualityReport:
    """The checks of one series at `checked_at`, its score, and the scales the live path judges new bars by."""

    checked_at: int
    bar_count: int
    score: float
    results: tuple[CheckResult, ...]
    scales: MoveScales
    has_volume: bool

    @property
    def anomalies(self) -> tuple[Anomaly, ...]:
        return tuple(anomaly for result in self.results for anomaly in result.anomalies)

    @property
    def failed(self) -> tuple[CheckResult, ...]:
        return tuple(result for result in self.results if not result.passed)

    def result(self, name: str) -> CheckResult | None:
        return next((result for result in self.results if result.name == name), None)


def _series_checks(context: CheckContext) -> list[Check]:
    checks: list[Check] = [ohlc_sanity]
    if context.expected_times is not None:
        checks.append(missing_session_bars)
    return [*checks, stale_series, zero_volume_runs, flat_bars_runs, future_bars]


def run_checks(
    columns: SeriesColumns,
    context: CheckContext,
    thresholds: QualityThresholds,
    reconciliation: Reconciliation | None = None,
) -> QualityReport:
    """Every check that applies: `missing_session_bars` needs `context.expected_times`; `live_vs_source`
    is included when a reconciliation of this series' live bars is given."""
    scales = move_scales(columns)
    results = [check(columns, context, thresholds) for check in _series_checks(context)]
    results += spike_checks(columns, thresholds, scales)
    if reconciliation is not None:
        results.append(reconciliation.check_result())
    return QualityReport(
        checked_at=context.now, bar_count=len(columns), score=quality_score(results, len(columns)),
        results=tuple(results), scales=scales, has_volume=has_volume(columns),
    )


@dataclass(frozen=True, slots=True)
class SeriesScore:
    source: str
    score: float
    bar_count: int


def aggregate_scores(scores: Iterable[SeriesScore]) -> dict[str, float]:
    """Per source, the bar-weighted mean score of its series (series without bars are left out)."""
    weighted: dict[str, float] = defaultdict(float)
    bars: dict[str, int] = defaultdict(int)
    for series in scores:
        if series.bar_count > 0:
            weighted[series.source] += series.score * series.bar_count
            bars[series.source] += series.bar_count
    return {source: weighted[source] / bars[source] for source in bars}
