"""Daily trading sessions and the weekly schedule they form, in exchange-local minutes.

A `Session` is one trading window of a *trading day*, as minutes from that day's local midnight:
`start` is negative when the session opens the previous calendar day (an overnight session), `end` is at
most 1440 (midnight ending the day). A trading day's sessions are sorted and never overlap, and they never
overlap the sessions of the days around it (`WeeklySessions` checks the whole week, wrapping around).

Weekdays are numbered Monday = 0 ... Sunday = 6 here (`date.weekday()`); TradingView's digits are read in
`tradingview_sessions`.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

from src.domain.errors import InvalidSession

MINUTES_PER_DAY = 1440
DAYS_PER_WEEK = 7


@dataclass(frozen=True, slots=True, order=True)
class Session:
    start: int
    end: int

    def __post_init__(self) -> None:
        if not -MINUTES_PER_DAY < self.start < self.end <= MINUTES_PER_DAY:
            raise InvalidSession(f"session {self.start}..{self.end} min is not within one trading day", field="session")
        if self.end - self.start > MINUTES_PER_DAY:
            raise InvalidSession(f"session {self.start}..{self.end} min is longer than a day", field="session")

    @property
    def is_overnight(self) -> bool:
        return self.start < 0


type DaySessions = tuple[Session, ...]


@dataclass(frozen=True, slots=True)
class WeeklySessions:
    """The regular sessions of each weekday (Monday first) and the weekday a trading week starts on."""

    days: tuple[DaySessions, ...]
    first_weekday: int = 0

    def __post_init__(self) -> None:
        if len(self.days) != DAYS_PER_WEEK:
            raise InvalidSession("a week needs the sessions of 7 days", field="session")
        if not 0 <= self.first_weekday < DAYS_PER_WEEK:
            raise InvalidSession(f"first weekday {self.first_weekday} is not 0..6", field="session")
        for day in self.days:
            check_day(day)
        check_no_overlap(_week_windows(self.days))

    @classmethod
    def every_day(cls, sessions: DaySessions) -> "WeeklySessions":
        return cls(tuple(sessions for _ in range(DAYS_PER_WEEK)))


def check_day(sessions: DaySessions) -> None:
    """A day's sessions are given in order and do not overlap."""
    check_no_overlap((s.start, s.end) for s in sessions)
    if list(sessions) != sorted(sessions):
        raise InvalidSession("a day's sessions must be given in time order", field="session")


def check_no_overlap(windows: Iterable[tuple[int, int]]) -> None:
    ordered = sorted(windows)
    for (_, earlier_end), (later_start, _) in pairwise(ordered):
        if later_start < earlier_end:
            raise InvalidSession("sessions overlap (check overnight sessions and their days)", field="session")


def _week_windows(days: tuple[DaySessions, ...]) -> list[tuple[int, int]]:
    """Every session of the week in minutes from Monday 00:00, plus next Monday's for the wrap-around."""
    windows = []
    for weekday, sessions in enumerate((*days, days[0])):
        base = weekday * MINUTES_PER_DAY
        windows += [(base + s.start, base + s.end) for s in sessions]
    return windows
