"""Quality checks over one series: pure, vectorized, each `(columns, context, thresholds) -> CheckResult`.

| check                  | severity | value                                    | threshold              | passes |
|------------------------|----------|------------------------------------------|------------------------|--------|
| `ohlc_sanity`          | error    | broken bars stored + rejected upstream   | `max_invalid_bars`     | v <= t |
| `missing_session_bars` | warning  | expected bars absent (first..last bar)   | `max_missing_bars`     | v <= t |
| `stale_series`         | warning  | closed periods after the last bar        | `max_stale_periods`    | v <= t |
| `zero_volume_runs`     | warning  | longest run of zero-volume bars          | `zero_volume_run_bars` | v < t  |
| `flat_bars_runs`       | warning  | longest run of open = high = low = close | `flat_run_bars`        | v < t  |
| `future_bars`          | error    | seconds the latest bar opens after now   | tolerance, in seconds  | v <= t |

`price_spikes` and `level_shifts` are in `spikes.py`, `live_vs_source` in `reconciliation.py`.

Rules:
* **OHLC sanity.** A bar is broken unless all five values are finite, low <= min(open, close),
  high >= max(open, close), low <= high and volume >= 0. Every broken stored bar is an anomaly; bars the
  source sent broken and that were skipped (`rejected_upstream`) count in the value (they have no stored bar).
* **Missing session bars.** Only `expected_times` (the session calendar's bar times) can be missing, so
  nights, weekends and holidays are never gaps; expected times before the first or after the last stored
  bar are ignored (the history's start is not a gap; what follows the last bar is the stale check's).
  One anomaly per missing range, at its first missing bar; every missing bar counts in the score.
* **Stale series.** While the market is open, the periods that began after the last bar and have ended
  by `now` are counted: the expected times in that span, or the 24x7 grid without a calendar. Above the
  tolerance the series is stale: one anomaly at the last bar. Never stale while the market is closed.
* **Runs.** Runs are consecutive bars of the series; one anomaly per run at its first bar. A series whose
  volume is zero throughout carries no volume (an index) and has no zero-volume runs.
* **Future bars.** A bar opening more than `future_tolerance_periods` periods after `now` (the length of
  now's month for 1M) is from the future: one anomaly per such bar.
"""

import numpy as np
import numpy.typing as npt

from src.domain.quality.model import (
    Anomaly,
    CheckContext,
    CheckResult,
    InvalidQualityInput,
    Mask,
    QualityThresholds,
    SeriesColumns,
    Severity,
    Times,
)
from src.domain.quality.periods import closed_periods_after, latest_closed_open, period_length_at

type Positions = npt.NDArray[np.intp]


def broken_bars(columns: SeriesColumns) -> Mask:
    o, h, lo, c, v = columns.price_columns
    finite = np.isfinite(o) & np.isfinite(h) & np.isfinite(lo) & np.isfinite(c) & np.isfinite(v)
    sane = (lo <= np.minimum(o, c)) & (h >= np.maximum(o, c)) & (lo <= h) & (v >= 0)
    return ~(finite & sane)


def _broken_rules(o: float, h: float, lo: float, c: float, v: float) -> str:
    rules = {
        "a value is not finite": not all(np.isfinite((o, h, lo, c, v))),
        "low > min(open, close)": lo > min(o, c),
        "high < max(open, close)": h < max(o, c),
        "low > high": lo > h,
        "volume < 0": v < 0,
    }
    return "; ".join(rule for rule, broken in rules.items() if broken)


def _bar_values(columns: SeriesColumns, position: int) -> dict[str, float]:
    names = ("open", "high", "low", "close", "volume")
    return {name: float(column[position]) for name, column in zip(names, columns.price_columns, strict=True)}


def _broken_bar(columns: SeriesColumns, position: int) -> Anomaly:
    values = _bar_values(columns, position)
    return Anomaly(
        check="ohlc_sanity", severity=Severity.ERROR, bar_time=int(columns.time[position]), values=values,
        detail=_broken_rules(*values.values()),
    )


def ohlc_sanity(columns: SeriesColumns, context: CheckContext, thresholds: QualityThresholds) -> CheckResult:
    positions = np.flatnonzero(broken_bars(columns))
    anomalies = tuple(_broken_bar(columns, int(i)) for i in positions)
    invalid = len(positions) + context.rejected_upstream
    return CheckResult(
        name="ohlc_sanity", severity=Severity.ERROR, passed=invalid <= thresholds.max_invalid_bars,
        value=float(invalid), threshold=float(thresholds.max_invalid_bars), affected_bars=invalid,
        anomalies=anomalies,
    )


def _run_bounds(flags: Mask) -> tuple[Positions, Positions]:
    """First positions and lengths of the runs of True in `flags`."""
    edges = np.diff(np.concatenate(([0], flags.view(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    return starts, np.flatnonzero(edges == -1) - starts


def missing_ranges(times: Times, expected: Times) -> tuple[Times, Times, Positions]:
    """The expected times absent from `times` (within its first..last bar), as ranges: first and last
    missing time and the number of bars of each range."""
    if not len(times):
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.intp)
    within = expected[(expected >= times[0]) & (expected <= times[-1])]
    at = np.minimum(np.searchsorted(times, within), len(times) - 1)
    starts, lengths = _run_bounds(times[at] != within)
    return within[starts], within[starts + lengths - 1], lengths


def missing_range_anomaly(first: int, last: int, count: int) -> Anomaly:
    return Anomaly(
        check="missing_session_bars", severity=Severity.WARNING, bar_time=first, last_bar_time=last,
        values={"bars": float(count)},
        detail=f"{count} expected bar(s) missing, {first}..{last}",
    )


def missing_session_bars(
    columns: SeriesColumns, context: CheckContext, thresholds: QualityThresholds
) -> CheckResult:
    if context.expected_times is None:
        raise InvalidQualityInput("missing_session_bars needs the calendar's expected_times", field="context")
    firsts, lasts, counts = missing_ranges(columns.time, context.expected_times)
    anomalies = tuple(
        missing_range_anomaly(int(first), int(last), int(count))
        for first, last, count in zip(firsts, lasts, counts, strict=True)
    )
    missing = int(counts.sum())
    return CheckResult(
        name="missing_session_bars", severity=Severity.WARNING, passed=missing <= thresholds.max_missing_bars,
        value=float(missing), threshold=float(thresholds.max_missing_bars), affected_bars=missing,
        anomalies=anomalies,
    )


def _closed_periods_since_last(last_time: int, context: CheckContext) -> int:
    if context.expected_times is None:
        return closed_periods_after(last_time, context.now, context.interval_seconds)
    cut = latest_closed_open(context.now, context.interval_seconds)
    expected = context.expected_times
    return int(np.searchsorted(expected, cut, "right") - np.searchsorted(expected, last_time, "right"))


def stale_series(columns: SeriesColumns, context: CheckContext, thresholds: QualityThresholds) -> CheckResult:
    stale_for = 0
    if len(columns) and context.market_open_now:
        stale_for = max(0, _closed_periods_since_last(int(columns.time[-1]), context))
    passed = stale_for <= thresholds.max_stale_periods
    anomalies = () if passed else (
        Anomaly(
            check="stale_series", severity=Severity.WARNING, bar_time=int(columns.time[-1]),
            values={"periods": float(stale_for)},
            detail=f"no new bar for {stale_for} periods while the market is open",
        ),
    )
    return CheckResult(
        name="stale_series", severity=Severity.WARNING, passed=passed, value=float(stale_for),
        threshold=float(thresholds.max_stale_periods), affected_bars=0 if passed else stale_for,
        anomalies=anomalies,
    )


RUN_CHECKS = {"zero_volume_runs": "zero volume", "flat_bars_runs": "open = high = low = close"}


def run_anomaly(check: str, first: int, last: int, length: int) -> Anomaly:
    return Anomaly(
        check=check, severity=Severity.WARNING, bar_time=first, last_bar_time=last,
        values={"bars": float(length)},
        detail=f"{length} consecutive bars with {RUN_CHECKS[check]}",
    )


def _runs_result(name: str, columns: SeriesColumns, flags: Mask, min_length: int) -> CheckResult:
    starts, lengths = _run_bounds(flags)
    flagged = lengths >= min_length
    anomalies = tuple(
        run_anomaly(name, int(columns.time[start]), int(columns.time[start + length - 1]), int(length))
        for start, length in zip(starts[flagged], lengths[flagged], strict=True)
    )
    longest = int(lengths.max()) if len(lengths) else 0
    return CheckResult(
        name=name, severity=Severity.WARNING, passed=longest < min_length, value=float(longest),
        threshold=float(min_length), affected_bars=int(lengths[flagged].sum()), anomalies=anomalies,
    )


def has_volume(columns: SeriesColumns) -> bool:
    return bool(np.any(columns.volume != 0))


def zero_volume_runs(columns: SeriesColumns, context: CheckContext, thresholds: QualityThresholds) -> CheckResult:
    flags = columns.volume == 0 if has_volume(columns) else np.zeros(len(columns), np.bool_)
    return _runs_result("zero_volume_runs", columns, flags, thresholds.zero_volume_run_bars)


def flat_bars_runs(columns: SeriesColumns, context: CheckContext, thresholds: QualityThresholds) -> CheckResult:
    o, h, lo, c, _ = columns.price_columns
    flags = (o == h) & (h == lo) & (lo == c)
    return _runs_result("flat_bars_runs", columns, flags, thresholds.flat_run_bars)


def future_tolerance(now: int, interval_seconds: int, thresholds: QualityThresholds) -> int:
    """Seconds after `now` that a bar may still open at."""
    return thresholds.future_tolerance_periods * period_length_at(now, interval_seconds)


def future_anomaly(bar_time: int, now: int) -> Anomaly:
    return Anomaly(
        check="future_bars", severity=Severity.ERROR, bar_time=bar_time,
        values={"seconds_ahead": float(bar_time - now)}, detail=f"bar opens {bar_time - now} s after now",
    )


def future_bars(columns: SeriesColumns, context: CheckContext, thresholds: QualityThresholds) -> CheckResult:
    tolerance = future_tolerance(context.now, context.interval_seconds, thresholds)
    positions = np.flatnonzero(columns.time > context.now + tolerance)
    anomalies = tuple(future_anomaly(int(columns.time[i]), context.now) for i in positions)
    ahead = max(0, int(columns.time[-1]) - context.now) if len(columns) else 0
    return CheckResult(
        name="future_bars", severity=Severity.ERROR, passed=not len(positions), value=float(ahead),
        threshold=float(tolerance), affected_bars=len(positions), anomalies=anomalies,
    )
