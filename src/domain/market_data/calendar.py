"""A symbol's trading calendar: which instants trade, and the bars of every interval they form.

`SessionCalendar` is a pure value: the time zone (`TimeZoneRules`, data, no tz database), the weekly
sessions, holidays and per-date corrections. All times are integer epoch seconds (UTC).

Rules (each has a test named for it):

* **Sessions.** A trading day's sessions are its corrected sessions when it has a correction, none when it
  is a holiday, else the regular sessions of its weekday. Their local wall-clock bounds become instants
  by `TimeZoneRules.to_utc` (gaps to the transition, folds to the first occurrence). An instant trades
  when some session has `open <= t < close`; it belongs to that session's trading day.
* **Intraday bars** (1m ... 4h) are anchored at each session's open: `open, open + len, ...`; the last bar
  of a session ends at the session's close and may be short (NASDAQ 1h: 09:30 ... 15:30-16:00 New York).
* **Daily bars**: one per trading day that has a session, opening at its first session's open and
  closing at its last session's close. An overnight session's day is the day it ends on.
* **Weekly and monthly bars**: one per trading week (starting on the schedule's first weekday, Monday by
  default) or calendar month of the trading days, opening at the first session open of its first trading
  day and closing at its last close. Periods are keyed by trading days, so two periods never share a key.
* **24x7 in UTC** gives exactly the UTC grid of `Interval.align` / `Interval.next_open`.
* Extended hours are another calendar: build one from the extended session string.
"""

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from src.domain.errors import InvalidSession, NotABarOpen
from src.domain.market_data.interval import Interval
from src.domain.market_data.session_strings import (
    CORRECTIONS_FIELD,
    parse_corrections,
    parse_holidays,
    parse_session,
)
from src.domain.market_data.session_table import (
    BarSpans,
    SessionTable,
    Times,
    bars,
    build_table,
    session_bounds,
)
from src.domain.market_data.sessions import MINUTES_PER_DAY, DaySessions, WeeklySessions, check_day, check_no_overlap
from src.domain.market_data.time_zone import TimeZoneRules
from src.domain.market_data.trading_periods import (
    calendar_date,
    days_of_period,
    epoch_day,
    period_of,
    weekday,
)

type Corrections = tuple[tuple[date, DaySessions], ...]
type Found = tuple[int, int, int]  # open, close, trading day of one session
type Around = tuple[int, int, Found | None]  # [from, until) holding one session (or none) and that session

_SECONDS_PER_DAY = 86_400
_MEMO_LIMIT = 4096
_LOOK_BACK_S = (8 * _SECONDS_PER_DAY, 40 * _SECONDS_PER_DAY, 400 * _SECONDS_PER_DAY)


@dataclass(frozen=True, slots=True)
class SessionCalendar:
    time_zone: TimeZoneRules
    week: WeeklySessions
    holidays: frozenset[date] = frozenset()
    corrections: Corrections = ()
    _holidays: frozenset[int] = field(init=False, repr=False, compare=False)
    _corrected: dict[int, DaySessions] = field(init=False, repr=False, compare=False)
    _memo: "_Memo" = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_holidays", frozenset(epoch_day(d) for d in self.holidays))
        object.__setattr__(self, "_corrected", {epoch_day(d): sessions for d, sessions in self.corrections})
        object.__setattr__(self, "_memo", _Memo())
        _check_corrections(self)

    @classmethod
    def from_tradingview(
        cls, time_zone: TimeZoneRules, session: str, holidays: str = "", corrections: str = ""
    ) -> "SessionCalendar":
        """From a symbol's TradingView `session`, `session_holidays` and `session-correction` strings."""
        corrected = tuple(sorted(parse_corrections(corrections).items()))
        return cls(time_zone, parse_session(session), parse_holidays(holidays), corrected)

    @classmethod
    def always_open(cls, time_zone: TimeZoneRules | None = None) -> "SessionCalendar":
        """`24x7`: in UTC (the default) its bars are the plain UTC grid."""
        return cls.from_tradingview(time_zone or TimeZoneRules.utc(), "24x7")

    def sessions_of(self, day: date) -> DaySessions:
        """The local sessions of a trading day, corrections and holidays applied."""
        return self._sessions_of(epoch_day(day))

    def bar_spans(self, interval: Interval, start: int, end: int) -> BarSpans:
        """The [open, close) of every bar of `interval` sharing an instant with [start, end], in time order."""
        if end < start:
            return BarSpans(np.zeros(0, np.int64), np.zeros(0, np.int64))
        first_day, last_day = self._day_span(start, end)
        if not interval.is_intraday:
            first_day = self._period_days(first_day, interval)[0]
            last_day = self._period_days(last_day, interval)[1]
        return bars(self._table(first_day, last_day), interval, self.week.first_weekday).overlapping(start, end)

    def bar_times(self, interval: Interval, start: int, end: int) -> Times:
        """The open times of the bars of `interval` overlapping [start, end], sorted (numpy int64)."""
        return self.bar_spans(interval, start, end).opens

    def bar_of(self, t: int, interval: Interval) -> int | None:
        """The open time of the bar of `interval` that the trade time `t` belongs to; None outside sessions."""
        found = self._session_at(t)
        if found is None:
            return None
        opened, _, day = found
        if interval.is_intraday:
            return opened + (t - opened) // interval.seconds * interval.seconds
        return self._period_span(day, interval)[0]

    def bar_close(self, open_time: int, interval: Interval) -> int:
        """The end of the bar opening at `open_time`: intraday one interval later, clipped at its session's
        close; daily, weekly and monthly the close of the period's last session. `NotABarOpen` otherwise."""
        found = self._session_at(open_time)
        if found is None or self.bar_of(open_time, interval) != open_time:
            raise NotABarOpen(f"{open_time} is not the open of a {interval} bar of this calendar", field="time")
        if interval.is_intraday:
            return min(open_time + interval.seconds, found[1])
        return self._period_span(found[2], interval)[1]

    def is_trading(self, t: int) -> bool:
        return self._session_at(t) is not None

    def span_at(self, t: int) -> tuple[int, int, bool]:
        """[start, end) around `t` that is one session (True) or a stretch holding no session (False): until
        `end` every instant answers alike, so a caller may skip the calendar until then."""
        self._session_at(t)
        start, end, found = self._memo.around
        return start, end, found is not None

    def period_open(self, day: date, interval: Interval) -> int | None:
        """The open of the daily, weekly or monthly bar whose period holds the date `day` (whether or not `day`
        itself trades); None when that period has no session."""
        if interval.is_intraday:
            raise ValueError(f"{interval} bars have no trading period")
        table = self._table(*self._period_days(epoch_day(day), interval))
        return int(table.opens[0]) if table.opens.size else None

    def latest_open(self, t: int, interval: Interval) -> int | None:
        """The open of the newest bar of `interval` opening at or before `t`; None when none opens within
        about a year before it."""
        opened = self.bar_of(t, interval)
        if opened is not None:
            return opened
        for back in _LOOK_BACK_S:
            opens = self.bar_times(interval, t - back, t)
            if opens.size:
                return int(opens[-1])
        return None

    @property
    def is_utc_grid(self) -> bool:
        """True for `always_open()`: its bars are exactly the UTC grid of `Interval.align`."""
        zone = self.time_zone
        return (zone.is_fixed and zone.base_offset == 0 and self.week == _UTC_GRID.week and not self.holidays
                and not self.corrections)

    def trading_day_of(self, t: int) -> date | None:
        """The trading day whose session contains `t` (for overnight sessions, the day it ends); None outside."""
        found = self._session_at(t)
        return None if found is None else calendar_date(found[2])

    def _sessions_of(self, day: int) -> DaySessions:
        corrected = self._corrected.get(day)
        if corrected is not None:
            return corrected
        return () if day in self._holidays else self.week.days[weekday(day)]

    def _local_day(self, t: int) -> int:
        return self.time_zone.to_local(t) // _SECONDS_PER_DAY

    def _day_span(self, start: int, end: int) -> tuple[int, int]:
        """Trading days whose sessions may hold instants of [start, end]: a session of day D lies within
        the local dates D-1 and D; one more day each side for instants a fold repeats."""
        return self._local_day(start) - 1, self._local_day(end) + 1

    def _table(self, first_day: int, last_day: int) -> SessionTable:
        return build_table(self._sessions_of, self.time_zone, first_day, last_day)

    def _period_days(self, day: int, interval: Interval) -> tuple[int, int]:
        first_weekday = self.week.first_weekday
        return days_of_period(period_of(day, interval, first_weekday), interval, first_weekday)

    def _session_at(self, t: int) -> Found | None:
        around = self._memo.around
        if not around[0] <= t < around[1]:
            around = self._memo.around = self._look_around(t)
        return around[2]

    def _look_around(self, t: int) -> Around:
        """The session holding `t`, or else a span around `t` that holds no session. Sessions of days
        before the local day `d - 1` end by the local midnight starting `d - 1`, and sessions of days
        after `d + 1` open after the midnight ending `d`: those two instants bound the span."""
        local_day = self._local_day(t)
        after = self.time_zone.to_utc((local_day - 1) * _SECONDS_PER_DAY)
        before = max(t + 1, self.time_zone.to_utc((local_day + 1) * _SECONDS_PER_DAY))
        for day in range(local_day - 1, local_day + 2):
            for opened, closed in session_bounds(day, self._sessions_of(day), self.time_zone):
                if opened <= t < closed:
                    return opened, closed, (opened, closed, day)
                after, before = (max(after, closed), before) if closed <= t else (after, min(before, opened))
        return after, before, None

    def _period_span(self, day: int, interval: Interval) -> Found:
        periods = self._memo.periods
        key = (interval, period_of(day, interval, self.week.first_weekday))
        span = periods.get(key)
        if span is None:
            table = self._table(*self._period_days(day, interval))
            span = (int(table.opens[0]), int(table.closes[-1]), day)
            if len(periods) > _MEMO_LIMIT:
                periods.clear()
            periods[key] = span
        return span


class _Memo:
    """Answers already computed; the calendar never changes, so they stay true. A stream of ticks then
    costs a comparison or a dictionary look-up per call, not a recomputation of sessions."""

    __slots__ = ("around", "periods")

    def __init__(self) -> None:
        self.around: Around = (0, 0, None)
        self.periods: dict[tuple[Interval, int], Found] = {}


def _check_corrections(calendar: SessionCalendar) -> None:
    """A corrected day's sessions must not overlap the sessions of the days before and after it."""
    for corrected_day, sessions in calendar.corrections:
        try:
            check_day(sessions)
            day = epoch_day(corrected_day)
            windows = [
                (offset * MINUTES_PER_DAY + s.start, offset * MINUTES_PER_DAY + s.end)
                for offset in (-1, 0, 1)
                for s in calendar._sessions_of(day + offset)
            ]
            check_no_overlap(windows)
        except InvalidSession as error:
            raise InvalidSession(f"correction of {corrected_day}: {error}", field=CORRECTIONS_FIELD) from None


_UTC_GRID = SessionCalendar.always_open()
