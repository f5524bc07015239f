"""Exchange sessions: which local days trade, and the pre-market, regular and post-market hours of each.

US exchanges (NYSE/Nasdaq rules): 09:30-16:00 New York time, pre-market 04:00-09:30, post-market 16:00-20:00;
closed on the NYSE holidays; 13:00 early close (post-market to 17:00) on July 3, the day after Thanksgiving and
Christmas Eve when those are trading days. London: 08:00-16:30, no extended hours, bank holidays, 12:30 close on
Christmas Eve and New Year's Eve. Crypto: every day, 00:00-24:00 UTC.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from simulators.common.holidays import london_early_closes, london_holidays, us_early_closes, us_holidays


@dataclass(frozen=True, slots=True)
class Session:
    """One trading day, in epoch seconds."""

    day: date
    pre_start: int
    start: int
    end: int
    post_end: int


@dataclass(frozen=True)
class Calendar:
    timezone: str
    open: time
    close: time
    pre_open: time | None = None
    post_close: time | None = None
    closed_days: Callable[[int], frozenset[date]] = lambda year: frozenset()
    early_closes: Callable[[int], dict[date, time]] = lambda year: {}
    weekends: bool = True

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def session(self, day: date) -> Session | None:
        if (self.weekends and day.weekday() >= 5) or day in self.closed_days(day.year):
            return None
        close = self.early_closes(day.year).get(day, self.close)
        start, end = self._at(day, self.open), self._at(day, close)
        if close == time(0) and self.open == time(0):
            end = self._at(day + timedelta(days=1), time(0))
        pre = self._at(day, self.pre_open) if self.pre_open else start
        shift = (datetime.combine(date.min, self.close) - datetime.combine(date.min, close))
        post = self._at(day, (datetime.combine(date.min, self.post_close) - shift).time()) if self.post_close else end
        return Session(day, pre, start, end, post)

    def _at(self, day: date, moment: time) -> int:
        return int(datetime.combine(day, moment, self.zone).timestamp())

    def local_date(self, epoch: float) -> date:
        return datetime.fromtimestamp(epoch, self.zone).date()

    def sessions(self, first: date, last: date) -> Iterator[Session]:
        """Trading days from `first` to `last`, inclusive."""
        day = first
        while day <= last:
            session = self.session(day)
            if session is not None:
                yield session
            day += timedelta(days=1)

    def sessions_between(self, start: float, stop: float) -> list[Session]:
        """Sessions whose local day overlaps [start, stop)."""
        return list(self.sessions(self.local_date(start), self.local_date(max(start, stop - 1))))

    def latest_sessions(self, now: float, count: int, extended: bool) -> list[Session]:
        """The newest `count` sessions that have started by `now` (pre-market counts when `extended`)."""
        found: list[Session] = []
        day = self.local_date(now)
        while len(found) < count and day.year > 1970:
            session = self.session(day)
            if session is not None and (session.pre_start if extended else session.start) <= now:
                found.append(session)
            day -= timedelta(days=1)
        return list(reversed(found))


US = Calendar("America/New_York", time(9, 30), time(16, 0), time(4, 0), time(20, 0), us_holidays, us_early_closes)
LONDON = Calendar("Europe/London", time(8, 0), time(16, 30), closed_days=london_holidays,
                  early_closes=london_early_closes)
CRYPTO = Calendar("UTC", time(0, 0), time(0, 0), weekends=False)
