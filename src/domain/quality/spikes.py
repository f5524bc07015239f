"""Price spikes (bad ticks, `price_spikes`, error) and level shifts (`level_shifts`, info).

Rules:
* **Log prices.** Moves are measured on log prices; a bar with a non-positive or non-finite price is
  not judged, nor are moves to or from it.
* **Scales** (`MoveScales`, from the whole series): the median of the close-to-close log returns and
  their robust spread, 1.4826 x MAD (median absolute deviation), or 1.2533 x the mean absolute deviation
  when more than half the returns equal the median (MAD = 0); both estimate the standard deviation of
  normal returns. The typical bar range is the median of ln(high / low).
* **Jump.** A bar whose return r has |r - median| > `spike_z` x spread (robust z-score above k; exactly k
  is not a jump).
* **Bad tick or level shift.** A jump *reverts* when one of the next `spike_revert_bars` closes comes back
  to within `spike_revert_fraction` x |jump| of the close before the jump: the bars from the jump up to
  the reverting bar are bad ticks, and the move back is part of them, not a new jump. A jump that does not
  revert although `spike_revert_bars` bars follow it is a level shift: a real move (or a change of scale,
  such as an unadjusted split), reported as info. A bar is judged from a window around it — the bars the
  live path holds when it judges that bar, `spike_neighbours` of them after it — so the full check and the
  live path always agree; a bar with fewer bars after it is not judged yet.
* **Beyond the neighbours.** A bar whose high lies above the highest high, or whose low lies below the
  lowest low, of the `spike_neighbours` bars on each side by more than `spike_range_multiple` x the
  typical bar range (or x the return spread when that is larger) is a bad tick: the price went there and
  came straight back. Judged only with at least one bar before it and `spike_neighbours` bars after it.
* One anomaly per bad-tick bar; a bad-tick bar is never also a level shift.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from src.domain.quality.model import (
    Anomaly,
    CheckContext,
    CheckResult,
    Floats,
    QualityThresholds,
    SeriesColumns,
    Severity,
)

_MAD_TO_SIGMA = 1.4826
_MEAN_DEVIATION_TO_SIGMA = 1.2533


@dataclass(frozen=True, slots=True)
class MoveScales:
    """How a series usually moves: the centre and spread of its log returns and its typical bar range."""

    return_median: float = 0.0
    return_spread: float = 0.0
    bar_range: float = 0.0

    def jump_limit(self, thresholds: QualityThresholds) -> float:
        return thresholds.spike_z * self.return_spread

    def beyond_limit(self, thresholds: QualityThresholds) -> float:
        return thresholds.spike_range_multiple * max(self.bar_range, self.return_spread)

    def return_z(self, log_return: float) -> float | None:
        return (log_return - self.return_median) / self.return_spread if self.return_spread else None


def log_prices(prices: Floats) -> Floats:
    """ln(price), NaN where the price is not positive."""
    if bool(np.all(prices > 0)):
        return np.log(prices)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.log(np.where(prices > 0, prices, np.nan))


def _robust_spread(returns: Floats, median: float) -> float:
    deviations = np.abs(returns - median)
    mad = float(np.median(deviations))
    return _MAD_TO_SIGMA * mad if mad > 0 else _MEAN_DEVIATION_TO_SIGMA * float(deviations.mean())


def _finite(values: Floats) -> Floats:
    return values if bool(np.all(np.isfinite(values))) else values[np.isfinite(values)]


def move_scales(columns: SeriesColumns) -> MoveScales:
    returns = _finite(np.diff(log_prices(columns.close)))
    ranges = _finite(log_prices(columns.high) - log_prices(columns.low))
    bar_range = float(np.median(ranges)) if len(ranges) else 0.0
    if not len(returns):
        return MoveScales(bar_range=bar_range)
    median = float(np.median(returns))
    return MoveScales(median, _robust_spread(returns, median), bar_range)


def _reverting_bar(log_close: Sequence[float] | Floats, jump: int, thresholds: QualityThresholds) -> int | None:
    before = log_close[jump - 1]
    allowed = thresholds.spike_revert_fraction * abs(log_close[jump] - before)
    for later in range(jump + 1, min(jump + thresholds.spike_revert_bars, len(log_close) - 1) + 1):
        if abs(log_close[later] - before) <= allowed:
            return later
    return None


def classify_jumps(
    log_close: Sequence[float] | Floats, jumps: Iterable[int], thresholds: QualityThresholds
) -> tuple[list[int], list[int]]:
    """Positions of the bad-tick bars and of the level shifts among jumps (positions, ascending, >= 1),
    in time order: a reverting jump makes the bars up to its reverting bar bad ticks (the move back is part
    of them, not a new jump); a jump that does not revert is a level shift."""
    bad_ticks: list[int] = []
    level_shifts: list[int] = []
    reverted_at = -1
    for jump in jumps:
        if jump <= reverted_at:
            continue
        back = _reverting_bar(log_close, jump, thresholds)
        if back is not None:
            bad_ticks.extend(range(jump, back))
            reverted_at = back
        else:
            level_shifts.append(jump)
    return bad_ticks, level_shifts


def jump_verdict(
    log_close: Sequence[float] | Floats, at: int, scales: MoveScales, thresholds: QualityThresholds
) -> tuple[bool, bool]:
    """(bad tick, level shift) for the bar at `at`, decided from the window of bars the live path holds
    when it judges that bar: `spike_window - spike_neighbours` bars before it and `spike_neighbours` after.
    The full check asks the same question over the same window, so both paths agree by construction."""
    start = max(0, at - (thresholds.spike_window - thresholds.spike_neighbours))
    window = log_close[start : at + thresholds.spike_neighbours + 1]
    median, limit = scales.return_median, scales.jump_limit(thresholds)
    jumps = [i for i in range(1, len(window)) if abs((window[i] - window[i - 1]) - median) > limit]
    bad_ticks, level_shifts = classify_jumps(window, jumps, thresholds)
    return at - start in bad_ticks, at - start in level_shifts


def _neighbour_extreme(values: Floats, neighbours: int, pick: np.ufunc, fill: float) -> Floats:
    """Per bar, the extreme (`np.maximum`/`np.minimum`) of the bars up to `neighbours` away on each side."""
    size = len(values)
    padding = np.full(neighbours, fill)
    padded = np.concatenate((padding, values, padding))
    extreme = np.full(size, fill)
    for offset in range(1, neighbours + 1):
        extreme = pick(extreme, padded[neighbours - offset : neighbours - offset + size])
        extreme = pick(extreme, padded[neighbours + offset : neighbours + offset + size])
    return extreme


def beyond_neighbours(log_high: Floats, log_low: Floats, neighbours: int) -> Floats:
    """Per bar, how far (log) its high/low lies outside its neighbours' range; NaN where not judged."""
    above = log_high - _neighbour_extreme(log_high, neighbours, np.maximum, -np.inf)
    below = _neighbour_extreme(log_low, neighbours, np.minimum, np.inf) - log_low
    with np.errstate(invalid="ignore"):
        beyond = np.maximum(above, below)
    beyond[:1] = np.nan
    beyond[max(1, len(beyond) - neighbours) :] = np.nan
    return beyond


def bad_tick_anomaly(
    bar_time: int, prices: tuple[float, float, float, float], z: float | None, beyond: float | None
) -> Anomaly:
    """The anomaly of one bad-tick bar: its prices, its return's robust z (when its close jumped) and how
    far (ln) its high/low lies outside its neighbours' range (when that flagged it)."""
    values = dict(zip(("open", "high", "low", "close"), prices, strict=True))
    why = []
    if z is not None:
        values["return_z"] = z
        why.append("its close jumped and came back")
    if beyond is not None:
        values["beyond_neighbours"] = beyond
        why.append("its high/low lies far outside its neighbours' range")
    return Anomaly(
        check="price_spikes", severity=Severity.ERROR, bar_time=bar_time, values=values,
        detail="bad tick: " + " and ".join(why),
    )


def level_shift_anomaly(bar_time: int, close_before: float, close: float, z: float | None) -> Anomaly:
    values = {"close_before": close_before, "close": close}
    if z is not None:
        values["return_z"] = z
    return Anomaly(
        check="level_shifts", severity=Severity.INFO, bar_time=bar_time, values=values,
        detail="level shift: the close jumped and stayed",
    )


@dataclass(frozen=True, slots=True)
class _Findings:
    bad_ticks: list[int]
    z_bad_ticks: frozenset[int]
    far_bad_ticks: frozenset[int]
    level_shifts: list[int]
    returns: Floats
    beyond: Floats


def _find(columns: SeriesColumns, thresholds: QualityThresholds, scales: MoveScales) -> _Findings:
    log_close = log_prices(columns.close)
    returns = np.diff(log_close)
    jumps = np.flatnonzero(np.abs(returns - scales.return_median) > scales.jump_limit(thresholds)) + 1
    last_judged = len(log_close) - 1 - thresholds.spike_neighbours  # as on the live path: once enough closed
    # A bar can be a bad tick only within `spike_revert_bars` bars of a jump; judge those bars alone.
    candidates = sorted({k for j in jumps.tolist() for k in range(j, j + thresholds.spike_revert_bars)
                         if k <= last_judged})
    verdicts = {k: jump_verdict(log_close, k, scales, thresholds) for k in candidates}
    z_bad = [k for k, (bad, _) in verdicts.items() if bad]
    shifts = [k for k, (_, shift) in verdicts.items() if shift]
    beyond = beyond_neighbours(log_prices(columns.high), log_prices(columns.low), thresholds.spike_neighbours)
    with np.errstate(invalid="ignore"):
        far = np.flatnonzero(beyond > scales.beyond_limit(thresholds))
    bad = {*z_bad, *far.tolist()}
    return _Findings(
        sorted(bad), frozenset(z_bad), frozenset(far.tolist()), [i for i in shifts if i not in bad], returns, beyond
    )


def _bad_tick_at(columns: SeriesColumns, at: int, findings: _Findings, scales: MoveScales) -> Anomaly:
    z = scales.return_z(float(findings.returns[at - 1])) if at in findings.z_bad_ticks else None
    beyond = float(findings.beyond[at]) if at in findings.far_bad_ticks else None
    prices = (float(columns.open[at]), float(columns.high[at]), float(columns.low[at]), float(columns.close[at]))
    return bad_tick_anomaly(int(columns.time[at]), prices, z, beyond)


def _level_shift_at(columns: SeriesColumns, at: int, findings: _Findings, scales: MoveScales) -> Anomaly:
    z = scales.return_z(float(findings.returns[at - 1]))
    return level_shift_anomaly(int(columns.time[at]), float(columns.close[at - 1]), float(columns.close[at]), z)


def _result(name: str, severity: Severity, anomalies: tuple[Anomaly, ...]) -> CheckResult:
    return CheckResult(
        name=name, severity=severity, passed=not anomalies, value=float(len(anomalies)), threshold=0.0,
        affected_bars=len(anomalies), anomalies=anomalies,
    )


def spike_checks(
    columns: SeriesColumns, thresholds: QualityThresholds, scales: MoveScales | None = None
) -> tuple[CheckResult, CheckResult]:
    """`price_spikes` and `level_shifts` from one pass; `scales` default to the series' own."""
    scales = move_scales(columns) if scales is None else scales
    findings = _find(columns, thresholds, scales)
    bad_ticks = tuple(_bad_tick_at(columns, at, findings, scales) for at in findings.bad_ticks)
    shifts = tuple(_level_shift_at(columns, at, findings, scales) for at in findings.level_shifts)
    return _result("price_spikes", Severity.ERROR, bad_ticks), _result("level_shifts", Severity.INFO, shifts)


def price_spikes(columns: SeriesColumns, context: CheckContext, thresholds: QualityThresholds) -> CheckResult:
    return spike_checks(columns, thresholds)[0]


def level_shifts(columns: SeriesColumns, context: CheckContext, thresholds: QualityThresholds) -> CheckResult:
    return spike_checks(columns, thresholds)[1]
