"""Which times are bar opens of a series: the one rule every fetched, stored and live bar follows.

A series' bars are keyed by their open time. A time is a *bar open* when it is the open of a bar of the
series' interval in the series' `SessionCalendar` (for `always_open()`, 24x7 in UTC, that is the UTC grid of
`Interval.align`). A bar whose time is not one is rejected with a reason saying where the time falls
(outside the trading sessions, or inside the bar opening at ...); the caller counts it, and it is never
moved to the bar it might belong to.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from src.domain.market_data.calendar import SessionCalendar
from src.domain.market_data.interval import Interval

type Times = npt.NDArray[np.int64]
type Mask = npt.NDArray[np.bool_]

_WIDEST_STEP = 28 * 86_400
_DENSE_FACTOR = 4  # calendar slots per given time up to which one vectorised pass is cheaper than a look-up each


@dataclass(frozen=True, slots=True)
class Rejection:
    """A bar refused because its time is no bar open of the series' calendar."""

    time: int
    reason: str


def misplaced(calendar: SessionCalendar, interval: Interval, times: Iterable[int] | Times) -> Mask:
    """Per time (any order), True where it is not a bar open of `interval` in `calendar`."""
    values = np.asarray(times if isinstance(times, np.ndarray) else list(times), dtype=np.int64)
    if not values.size:
        return np.zeros(0, dtype=np.bool_)
    if calendar.is_utc_grid:
        return _off_grid(interval, values)
    low, high = int(values.min()), int(values.max())
    if (high - low) // (interval.seconds or _WIDEST_STEP) <= _DENSE_FACTOR * values.size + 10_000:
        found: Mask = ~np.isin(values, calendar.bar_times(interval, low, high))
        return found
    return np.fromiter((calendar.bar_of(int(t), interval) != t for t in values), np.bool_, values.size)


def reason(calendar: SessionCalendar, interval: Interval, time: int) -> str:
    """Why `time` is not a bar open: where it falls in the calendar."""
    opened = calendar.bar_of(time, interval)
    where = "outside the trading sessions" if opened is None else f"inside the bar opening at {_iso(opened)}"
    return f"a {interval} bar at {_iso(time)} is not a bar open of the symbol's trading calendar: it is {where}"


def rejections(calendar: SessionCalendar, interval: Interval, times: Times) -> tuple[Rejection, ...]:
    """A rejection, with its reason, for each misplaced time among `times`."""
    wrong = times[misplaced(calendar, interval, times)]
    return tuple(Rejection(int(t), reason(calendar, interval, int(t))) for t in wrong)


def _off_grid(interval: Interval, times: Times) -> Mask:
    if interval.is_intraday or interval is Interval.D1:
        found: Mask = times % interval.seconds != 0
        return found
    return np.fromiter((interval.align(int(t)) != t for t in times), np.bool_, times.size)


def _iso(time: int) -> str:
    return datetime.fromtimestamp(time, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
