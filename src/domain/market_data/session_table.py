"""A calendar's sessions over a span of trading days as UTC arrays, and the bars they cut into.

Work is done per trading day in Python (a handful of sessions and time-zone look-ups each) and per bar in
numpy, so a year of 1m bars costs a few hundred Python iterations, not a hundred thousand.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from src.domain.market_data.interval import Interval
from src.domain.market_data.sessions import DaySessions
from src.domain.market_data.time_zone import TimeZoneRules
from src.domain.market_data.trading_periods import periods_of

type Times = npt.NDArray[np.int64]
type SessionsOfDay = Callable[[int], DaySessions]

_SECONDS_PER_DAY = 86_400
_EMPTY: Times = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True, slots=True)
class SessionTable:
    """Sessions in time order: `opens[i]` <= t < `closes[i]` (UTC epoch seconds) on trading day `days[i]`."""

    opens: Times
    closes: Times
    days: Times


@dataclass(frozen=True, slots=True)
class BarSpans:
    """Bars in time order: bar i covers [`opens[i]`, `closes[i]`)."""

    opens: Times
    closes: Times

    def overlapping(self, start: int, end: int) -> "BarSpans":
        """The bars that share at least one instant with [start, end]."""
        keep = (self.opens <= end) & (self.closes > start)
        return BarSpans(self.opens[keep], self.closes[keep])


def session_bounds(day: int, sessions: DaySessions, time_zone: TimeZoneRules) -> list[tuple[int, int]]:
    """The UTC [open, close) of each session of trading `day`; a session lost in a DST gap is left out."""
    midnight = day * _SECONDS_PER_DAY
    bounds = [(time_zone.to_utc(midnight + s.start * 60), time_zone.to_utc(midnight + s.end * 60)) for s in sessions]
    return [(opened, closed) for opened, closed in bounds if opened < closed]


def build_table(sessions_of: SessionsOfDay, time_zone: TimeZoneRules, first_day: int, last_day: int) -> SessionTable:
    opens: list[int] = []
    closes: list[int] = []
    days: list[int] = []
    for day in range(first_day, last_day + 1):
        for opened, closed in session_bounds(day, sessions_of(day), time_zone):
            opens.append(opened)
            closes.append(closed)
            days.append(day)
    return SessionTable(_array(opens), _array(closes), _array(days))


def intraday_bars(table: SessionTable, seconds: int) -> BarSpans:
    """Bars of `seconds` anchored at each session's open; a session's last bar ends at its close."""
    counts = (table.closes - table.opens + (seconds - 1)) // seconds
    firsts_in_bars = np.repeat(np.cumsum(counts) - counts, counts)
    index_in_session = np.arange(firsts_in_bars.size, dtype=np.int64) - firsts_in_bars
    opens = np.repeat(table.opens, counts) + index_in_session * seconds
    closes = np.minimum(opens + seconds, np.repeat(table.closes, counts))
    return BarSpans(opens, closes)


def period_bars(table: SessionTable, interval: Interval, first_weekday: int) -> BarSpans:
    """One bar per trading day, week or month that has sessions: from its first open to its last close."""
    if table.days.size == 0:
        return BarSpans(_EMPTY, _EMPTY)
    periods = periods_of(table.days, interval, first_weekday)
    starts = np.flatnonzero(np.diff(periods, prepend=periods[0] - 1))
    ends = np.append(starts[1:], periods.size) - 1
    return BarSpans(table.opens[starts], table.closes[ends])


def bars(table: SessionTable, interval: Interval, first_weekday: int) -> BarSpans:
    if interval.is_intraday:
        return intraday_bars(table, interval.seconds)
    return period_bars(table, interval, first_weekday)


def _array(values: list[int]) -> Times:
    return np.array(values, dtype=np.int64) if values else _EMPTY
