"""Trading sessions and local time of stored bars, for session-anchored indicators (VWAP) and the calendar
and session features.

Each series uses its symbol's trading calendar (the slice reads it from `SymbolCalendars`); a symbol whose
sessions are not known uses `calendar_of`'s `SessionCalendar.always_open()`, 24x7 in UTC, where a session is
a UTC day. The functions below take any calendar.

Rules:
* An intraday bar belongs to the trading day whose first session opened last at or before the bar's open;
  its session id is that opening time, so a batch and a bar-by-bar update number sessions alike.
  A bar before any trading day found within `LOOK_BACK_S` gets `NO_SESSION`.
* A daily, weekly or monthly bar is a session of its own: its id is its own open time.
* A bar's UTC offset is the offset of the calendar's time zone in force at its open time.
"""

import numpy as np

from src.domain.indicators.columns import IntArray
from src.domain.market_data import Interval, SeriesKey
from src.domain.market_data.calendar import SessionCalendar

LOOK_BACK_S = 14 * 86_400  # how far before a bar its trading day is looked for (long holiday closures)
NO_SESSION = -1
_ALWAYS_OPEN = SessionCalendar.always_open()


def calendar_of(key: SeriesKey) -> SessionCalendar:
    """The trading calendar of a series whose symbol's sessions are not known: 24x7 UTC."""
    return _ALWAYS_OPEN


def session_ids(calendar: SessionCalendar, interval: Interval, times: IntArray) -> IntArray:
    """Per bar (open times, ascending), the id of its session: the open time of its trading day's first
    session for intraday bars, the bar's own open time otherwise."""
    times = np.asarray(times, dtype=np.int64)
    if not interval.is_intraday or len(times) == 0:
        return times.copy()
    day_opens = np.append(NO_SESSION, calendar.bar_times(Interval.D1, int(times[0]) - LOOK_BACK_S, int(times[-1])))
    found: IntArray = day_opens[np.searchsorted(day_opens[1:], times, side="right")]
    return found


def session_open(session_id: int, bar_time: int) -> int:
    """When the session of a bar opened (the bar's own open when it has no session)."""
    return bar_time if session_id == NO_SESSION else min(session_id, bar_time)


def utc_offsets(calendar: SessionCalendar, times: IntArray) -> IntArray:
    """Per bar, the seconds east of UTC of the calendar's time zone at its open time."""
    zone = calendar.time_zone
    offsets = np.asarray((zone.base_offset, *zone.offsets), dtype=np.int64)
    transitions = np.asarray(zone.transitions, dtype=np.int64)
    found: IntArray = offsets[np.searchsorted(transitions, np.asarray(times, dtype=np.int64), side="right")]
    return found
