"""The values the quality checks read and return: a series as columns, its context, thresholds, results.

A check never changes or drops a bar: it reports `Anomaly`s (flagged bars) inside a `CheckResult`.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from src.domain.errors import DomainError

type Times = npt.NDArray[np.int64]
type Floats = npt.NDArray[np.float64]
type Mask = npt.NDArray[np.bool_]


class InvalidQualityInput(DomainError):
    pass


class Severity(StrEnum):
    INFO = "info"  # worth knowing, not a fault of the data (e.g. a real level shift)
    WARNING = "warning"  # the data may mislead (gaps, stale, long flat runs)
    ERROR = "error"  # the data is wrong (broken OHLC, bad ticks, bars from the future)


@dataclass(frozen=True, slots=True, eq=False)
class SeriesColumns:
    """The bars of one series, column by column: `time` sorted and unique (epoch s UTC, open times)."""

    time: Times
    open: Floats
    high: Floats
    low: Floats
    close: Floats
    volume: Floats

    @classmethod
    def of(
        cls,
        time: Sequence[int] | Times,
        open: Sequence[float] | Floats,
        high: Sequence[float] | Floats,
        low: Sequence[float] | Floats,
        close: Sequence[float] | Floats,
        volume: Sequence[float] | Floats,
    ) -> "SeriesColumns":
        """From any sequences (lists, `array`s, numpy arrays); numpy inputs of the right dtype aren't copied."""
        prices = (np.asarray(column, dtype=np.float64) for column in (open, high, low, close, volume))
        return cls(np.asarray(time, dtype=np.int64), *prices)

    def __post_init__(self) -> None:
        size = len(self.time)
        if any(len(column) != size for column in self.price_columns):
            raise InvalidQualityInput("every column must have one value per bar", field="columns")
        if size > 1 and not bool(np.all(self.time[1:] > self.time[:-1])):
            raise InvalidQualityInput("bar times must be sorted and unique", field="time")

    @property
    def price_columns(self) -> tuple[Floats, Floats, Floats, Floats, Floats]:
        return (self.open, self.high, self.low, self.close, self.volume)

    def __len__(self) -> int:
        return len(self.time)

    def take(self, selection: Mask | npt.NDArray[np.intp]) -> "SeriesColumns":
        """The bars picked by a boolean mask or by positions, in series order."""
        return SeriesColumns(self.time[selection], *(column[selection] for column in self.price_columns))


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CheckContext:
    """What the checks need besides the bars; every time is passed in (epoch seconds UTC).

    `interval_seconds` is 0 for calendar months (1M). `expected_times` are the bar open times the session
    calendar expects from the series' first bar up to `now` (every interval step for a 24x7 series);
    without them the missing-bars check is not run and the stale check counts a 24x7 grid.
    `rejected_upstream` counts bars the source sent that broke the OHLC invariants and were not stored.
    """

    now: int
    interval_seconds: int
    expected_times: Times | None = None
    market_open_now: bool = True
    rejected_upstream: int = 0

    def __post_init__(self) -> None:
        if self.interval_seconds < 0 or self.rejected_upstream < 0:
            raise InvalidQualityInput("interval_seconds and rejected_upstream must be >= 0", field="context")
        if self.expected_times is not None:
            expected = np.asarray(self.expected_times, dtype=np.int64)
            if len(expected) > 1 and not bool(np.all(expected[1:] > expected[:-1])):
                raise InvalidQualityInput("expected_times must be sorted and unique", field="expected_times")
            object.__setattr__(self, "expected_times", expected)


@dataclass(frozen=True, slots=True, kw_only=True)
class QualityThresholds:
    """The limits of every check (settings fill them); each field names the check it belongs to."""

    max_invalid_bars: int = 0  # ohlc_sanity: broken bars stored plus rejected upstream, tolerated
    max_missing_bars: int = 0  # missing_session_bars: expected bars absent, tolerated
    max_stale_periods: int = 3  # stale_series: closed periods without a new bar while open, tolerated
    spike_z: float = 10.0  # price_spikes/level_shifts: |robust z| of a log return above this is a jump
    spike_range_multiple: float = 10.0  # a high/low beyond its neighbours by more than this many typical ranges
    spike_neighbours: int = 5  # bars on each side that make a bar's neighbourhood
    spike_revert_bars: int = 3  # a jump whose price comes back within this many bars is a bad tick
    spike_revert_fraction: float = 0.5  # "comes back": what remains of the jump is at most this fraction
    zero_volume_run_bars: int = 30  # zero_volume_runs: a run this long or longer is flagged
    flat_run_bars: int = 30  # flat_bars_runs: a run of open = high = low = close this long or longer
    future_tolerance_periods: int = 1  # future_bars: bars may open up to this many periods after now
    reconcile_price_tolerance: float = 1e-6  # live_vs_source: relative error allowed on open/high/low/close
    reconcile_volume_tolerance: float = 0.01  # live_vs_source: relative error allowed on volume

    def __post_init__(self) -> None:
        counts = (self.zero_volume_run_bars, self.flat_run_bars, self.spike_neighbours, self.spike_revert_bars)
        if min(counts) < 1 or self.spike_revert_bars > self.spike_neighbours:
            raise InvalidQualityInput("run lengths and spike windows must be >= 1, revert <= neighbours")
        limits = (self.spike_z, self.spike_range_multiple, self.spike_revert_fraction)
        if min(limits) <= 0 or min(self.reconcile_price_tolerance, self.reconcile_volume_tolerance) < 0:
            raise InvalidQualityInput("spike limits must be > 0 and tolerances >= 0", field="thresholds")
        if min(self.max_invalid_bars, self.max_missing_bars, self.max_stale_periods) < 0:
            raise InvalidQualityInput("tolerated counts must be >= 0", field="thresholds")

    @property
    def tail_bars(self) -> int:
        """How many previous bars `check_closed_bar` needs to judge a new bar like the full checks would."""
        return max(self.spike_window, self.zero_volume_run_bars - 1, self.flat_run_bars - 1)

    @property
    def spike_window(self) -> int:
        """Bars before the newest that the live spike verdict reads: the judged bar is `spike_neighbours`
        back, and its verdict depends on jumps up to 2 x `spike_revert_bars` bars before it (each needing
        the close before it)."""
        return self.spike_neighbours + max(self.spike_neighbours, 2 * self.spike_revert_bars)


@dataclass(frozen=True, slots=True, kw_only=True)
class Anomaly:
    """A finding about one bar, or about the bars `bar_time..last_bar_time` (a run, a missing range), with
    the values that made it suspect. It records the finding; the bars stay stored."""

    check: str
    severity: Severity
    bar_time: int
    values: dict[str, float] = field(default_factory=dict)
    detail: str = ""
    last_bar_time: int | None = None  # the last bar covered, when the finding covers several

    @property
    def span(self) -> tuple[int, int]:
        """First and last bar open time the finding covers."""
        return (self.bar_time, self.bar_time if self.last_bar_time is None else self.last_bar_time)


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    """The outcome of one check over one series.

    `value` is what the check measured and `threshold` the limit it was compared with (the table in
    `src.domain.quality.checks` says, per check, what both mean); `affected_bars` is how many bars the
    findings cover (missing bars included), which is what the quality score weighs.
    """

    name: str
    severity: Severity
    passed: bool
    value: float
    threshold: float
    affected_bars: int = 0
    anomalies: tuple[Anomaly, ...] = ()
