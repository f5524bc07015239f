"""A series' bars held column by column in numpy arrays: what the store reads and writes, without one
Python object per bar. Per-bar `OHLCVBar` objects remain where a single bar is handled (live bars, events).

Rules, the same as `OHLCVBar`'s, checked over whole columns at once by `check()` (one test each):

* prices and volume are finite;
* low <= min(open, close), high >= max(open, close) (so low <= high);
* volume >= 0;
* times are whole, non-negative epoch seconds (whether each is a bar open of the series' calendar is the
  series' rule, `bar_opens`, checked where bars enter from a source, as for `OHLCVBar`);
* a checked column set is sorted and unique by time: `normalized()` sorts and keeps, of equal times, the
  last one given (last write wins, as a batch of bars written in order would).

The first bar breaking a rule is named in the error, with the field at fault, as `OHLCVBar` does.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from src.domain.errors import InvalidBar, InvalidSeries
from src.domain.market_data import utc_calendar
from src.domain.market_data.bar import OHLCVBar
from src.domain.market_data.interval import Interval
from src.domain.market_data.series import SeriesKey

type Times = npt.NDArray[np.int64]
type Prices = npt.NDArray[np.float64]
type Flags = npt.NDArray[np.bool_]
type Column = Times | Prices | Flags

VALUE_COLUMNS = ("open", "high", "low", "close", "volume", "partial")
COLUMNS = ("time", *VALUE_COLUMNS)
_EMPTY_TIMES: Times = np.zeros(0, np.int64)


def aligned(interval: Interval, times: Times) -> Times:
    """`Interval.align` of every time at once."""
    if interval is Interval.MN1:
        return utc_calendar.month_starts(times)
    if interval is Interval.W1:
        return utc_calendar.week_starts(times)
    return times - times % interval.seconds


@dataclass(frozen=True, slots=True, eq=False)
class BarColumns:
    """The bars of one series, oldest first unless a read asked otherwise; arrays of equal length."""

    key: SeriesKey
    time: Times
    open: Prices
    high: Prices
    low: Prices
    close: Prices
    volume: Prices
    partial: Flags  # True where the bar does not cover its whole period

    @classmethod
    def of(
        cls, key: SeriesKey, time: object, open: object, high: object, low: object, close: object,
        volume: object, partial: object | None = None,
    ) -> "BarColumns":
        """From anything array-like, converted to the column types (int64 times, float64 values, bool flags)."""
        times = np.asarray(time, dtype=np.int64)
        flags = np.zeros(times.size, np.bool_) if partial is None else np.asarray(partial, dtype=np.bool_)
        o, h, lo, c, v = (np.asarray(x, dtype=np.float64) for x in (open, high, low, close, volume))
        columns = cls(key, times, o, h, lo, c, v, flags)
        if any(getattr(columns, name).shape != times.shape for name in VALUE_COLUMNS):
            raise InvalidSeries("every column must hold one value per bar", field="time")
        return columns

    @classmethod
    def empty(cls, key: SeriesKey) -> "BarColumns":
        return cls.of(key, _EMPTY_TIMES, [], [], [], [], [])

    @classmethod
    def from_bars(cls, key: SeriesKey, bars: Sequence[OHLCVBar]) -> "BarColumns":
        for bar in bars:
            if bar.interval is not key.interval:
                raise InvalidSeries(f"bar at {bar.time} is {bar.interval.code}, series is {key.interval.code}",
                                    field="interval")
        return cls.of(key, [b.time for b in bars], [b.open for b in bars], [b.high for b in bars],
                      [b.low for b in bars], [b.close for b in bars], [b.volume for b in bars],
                      [b.partial for b in bars])

    @classmethod
    def concat(cls, key: SeriesKey, pieces: Iterable["BarColumns"]) -> "BarColumns":
        parts = [p for p in pieces if len(p)]
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return cls.empty(key)
        return cls(key, *(np.concatenate([getattr(p, name) for p in parts]) for name in COLUMNS))

    def __len__(self) -> int:
        return int(self.time.size)

    def renamed(self, key: SeriesKey) -> "BarColumns":
        return replace(self, key=key)

    def columns(self) -> tuple[Column, ...]:
        return tuple(getattr(self, name) for name in COLUMNS)

    def to_bars(self) -> list[OHLCVBar]:
        iv = self.key.interval
        rows = zip(*(getattr(self, name).tolist() for name in COLUMNS), strict=True)
        return [OHLCVBar(iv, t, o, h, lo, c, v, p) for t, o, h, lo, c, v, p in rows]

    def map(self, pick: Callable[[Column], Column]) -> "BarColumns":
        """The same selection (a slice, an index array, a mask) applied to every column."""
        return BarColumns(self.key, *(pick(getattr(self, name)) for name in COLUMNS))  # type: ignore[arg-type]

    def between(self, start: int, end: int) -> "BarColumns":
        """The bars with start <= time <= end (the columns must be sorted by time)."""
        i, j = np.searchsorted(self.time, [start, end + 1])
        return self if i == 0 and j == len(self) else self.map(lambda column: column[i:j])

    def rows(self, start: int, stop: int) -> "BarColumns":
        """Bars `start` to `stop` (exclusive) by position, whatever the order."""
        return self if start <= 0 and stop >= len(self) else self.map(lambda column: column[start:stop])

    def first(self, count: int) -> "BarColumns":
        return self.rows(0, count)

    def last(self, count: int) -> "BarColumns":
        return self.rows(len(self) - count, len(self))

    def without(self, times: Times) -> "BarColumns":
        """These bars but those at `times`."""
        return self.map(lambda column: column[~np.isin(self.time, times)])

    def reversed(self) -> "BarColumns":
        return self.map(lambda column: column[::-1])

    def normalized(self) -> "BarColumns":
        """Sorted by time; of bars with equal times the last one given is kept."""
        t = self.time
        if t.size < 2 or bool(np.all(t[1:] > t[:-1])):
            return self
        order = np.argsort(t, kind="stable")
        ordered = t[order]
        keep = np.append(ordered[1:] != ordered[:-1], True)
        return self.map(lambda column: column[order[keep]])

    def check(self) -> "BarColumns":
        """Raise `InvalidBar` naming the first bar that breaks a rule of the module docstring; else self."""
        for field, broken, message in _RULES:
            bad = np.flatnonzero(broken(self))
            if bad.size:
                raise InvalidBar(f"bar at {int(self.time[bad[0]])}: {message(self)}", field=field)
        return self


def _not_finite(c: BarColumns) -> Flags:
    finite = np.isfinite(c.open) & np.isfinite(c.high) & np.isfinite(c.low) & np.isfinite(c.close)
    return np.logical_not(finite & np.isfinite(c.volume))


def _not_within_range(c: BarColumns) -> Flags:
    return (c.low > np.minimum(c.open, c.close)) | (c.high < np.maximum(c.open, c.close)) | (c.low > c.high)


def _negative_time(c: BarColumns) -> Flags:
    return c.time < 0


_RULES: tuple[tuple[str, Callable[[BarColumns], Flags], Callable[[BarColumns], str]], ...] = (
    ("price", _not_finite, lambda c: "prices and volume must be finite"),
    ("price", _not_within_range, lambda c: "need low <= min(open, close) and high >= max(open, close)"),
    ("volume", lambda c: c.volume < 0, lambda c: "volume must be >= 0"),
    ("time", _negative_time, lambda c: "time must be whole epoch seconds >= 0"),
)
