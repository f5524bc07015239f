"""What a stored series holds against what its trading calendar expects.

Rules (each has a test named for it):

* **Expected bars** are the bar opens of the calendar from the series' first stored bar to its last: nights,
  weekends, holidays and the breaks between sessions expect nothing, so they are never gaps.
* **Missing bars** are expected bars not stored; a **gap** is a stretch of missing bars that are consecutive in
  the calendar (a gap may span a night: the last bar of one session and the first of the next), reported as
  the inclusive (first, last) open times.
* **Misplaced bars** are stored bars at times that are no bar open of the calendar (e.g. a session symbol's
  bars stamped on the UTC grid by an older version): they are counted, and a repair (a sync with `refresh`)
  replaces them with the source's.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from src.domain.market_data.calendar import SessionCalendar
from src.domain.market_data.interval import Interval

type Times = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class CalendarCoverage:
    gaps: tuple[tuple[int, int], ...]
    missing: int
    misplaced: int


def calendar_coverage(calendar: SessionCalendar, interval: Interval, stored: Sequence[int] | Times) -> CalendarCoverage:
    """The gaps, missing and misplaced bars of a series holding bars at the sorted, unique times `stored`."""
    times = np.asarray(stored, dtype=np.int64)
    if not times.size:
        return CalendarCoverage((), 0, 0)
    expected = calendar.bar_times(interval, int(times[0]), int(times[-1]))
    expected = expected[(expected >= times[0]) & (expected <= times[-1])]
    absent = np.flatnonzero(~np.isin(expected, times))
    misplaced = int(times.size - np.count_nonzero(np.isin(times, expected)))
    return CalendarCoverage(_stretches(expected, absent), int(absent.size), misplaced)


def _stretches(expected: Times, absent: npt.NDArray[np.intp]) -> tuple[tuple[int, int], ...]:
    """Positions in `expected` as stretches of consecutive slots, each as its (first, last) open time."""
    if not absent.size:
        return ()
    breaks = np.flatnonzero(np.diff(absent) > 1)
    firsts = np.concatenate(([absent[0]], absent[breaks + 1]))
    lasts = np.concatenate((absent[breaks], [absent[-1]]))
    return tuple((int(expected[a]), int(expected[b])) for a, b in zip(firsts, lasts, strict=True))
