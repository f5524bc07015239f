"""Exchange sessions: which local days trade, and the pre-market, regular and post-market hours of each.

US exchanges (NYSE/Nasdaq rules): 09:30-16:00 New York time, pre-market 04:00-09:30, post-market 16:00-20:00;
closed on the NYSE holidays; 13:00 early close (post-market to 17:00) on July 3, the day after Thanksgiving and
Christmas Eve when those are trading days. London: 08:00-16:30, no extended hours, bank holidays, 12:30 close on
Christmas Eve and New Year's Eve. Crypto: every day, 00:00-24:00 UTC.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo


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


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _easter(year: int) -> date:
    """Anonymous Gregorian computus."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * l_) // 433
    month = (h + l_ - 7 * m + 90) // 25
    return date(year, month, (h + l_ - 7 * m + 33 * month + 19) % 32)


def _observed(day: date) -> date:
    """Saturday holidays move to Friday, Sunday holidays to Monday."""
    return day - timedelta(days=1) if day.weekday() == 5 else day + timedelta(days=1) if day.weekday() == 6 else day


@lru_cache(maxsize=256)
def us_holidays(year: int) -> frozenset[date]:
    days = {
        _nth_weekday(year, 1, 0, 3), _nth_weekday(year, 2, 0, 3), _easter(year) - timedelta(days=2),
        _last_weekday(year, 5, 0), _observed(date(year, 7, 4)), _nth_weekday(year, 9, 0, 1),
        _nth_weekday(year, 11, 3, 4), _observed(date(year, 12, 25)),
    }
    if date(year, 1, 1).weekday() != 5:  # NYSE does not move a Saturday New Year's Day to Friday
        days.add(_observed(date(year, 1, 1)))
    if year >= 2022:
        days.add(_observed(date(year, 6, 19)))
    return frozenset(days)


@lru_cache(maxsize=256)
def us_early_closes(year: int) -> dict[date, time]:
    candidates = [date(year, 7, 3), _nth_weekday(year, 11, 3, 4) + timedelta(days=1), date(year, 12, 24)]
    return {d: time(13, 0) for d in candidates if d.weekday() < 5 and d not in us_holidays(year)}


@lru_cache(maxsize=256)
def london_holidays(year: int) -> frozenset[date]:
    easter = _easter(year)
    christmas = date(year, 12, 25)
    boxing = date(year, 12, 26)
    if christmas.weekday() >= 5:
        christmas, boxing = christmas + timedelta(days=2), boxing + timedelta(days=2)
    elif boxing.weekday() >= 5:
        boxing += timedelta(days=2)
    new_year = date(year, 1, 1)
    new_year += timedelta(days=(7 - new_year.weekday()) % 7 if new_year.weekday() >= 5 else 0)
    return frozenset({new_year, easter - timedelta(days=2), easter + timedelta(days=1),
                      _nth_weekday(year, 5, 0, 1), _last_weekday(year, 5, 0), _last_weekday(year, 8, 0),
                      christmas, boxing})


@lru_cache(maxsize=256)
def london_early_closes(year: int) -> dict[date, time]:
    candidates = [date(year, 12, 24), date(year, 12, 31)]
    return {d: time(12, 30) for d in candidates if d.weekday() < 5 and d not in london_holidays(year)}


US = Calendar("America/New_York", time(9, 30), time(16, 0), time(4, 0), time(20, 0), us_holidays, us_early_closes)
LONDON = Calendar("Europe/London", time(8, 0), time(16, 30), closed_days=london_holidays,
                  early_closes=london_early_closes)
CRYPTO = Calendar("UTC", time(0, 0), time(0, 0), weekends=False)
