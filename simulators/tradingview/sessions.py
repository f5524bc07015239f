"""Exchange hours of the simulated TradingView symbols, and the bars they stamp, as TradingView stamps them.

An independent implementation (it works day by day with `zoneinfo` and `datetime`, and never imports the
service's calendar), so tests that compare the service with the simulator compare two implementations:

- A *trading day* trades from `open` to `close` local time; an overnight exchange (`open >= close`, futures)
  opens at `open` on the evening before and belongs to the day it closes on. Weekends and holidays do not
  trade; an early close ends the day at its own time.
- Intraday bars open at the session's open and every interval after it; the last one is cut at the close
  (NASDAQ 1h: 09:30 ... 15:30 New York; 4h: 09:30 and 13:30).
- Daily bars open at their trading day's open; weekly and monthly bars at the open of the first trading day
  of their week (Monday to Sunday, by trading day) or calendar month. So a futures week opens on Sunday
  evening, and a month whose first trading day's session starts the evening before opens in the month before.
- Extended hours (`pre`, `post`): the day trades from `pre` to `post` instead (an early close shortens the
  post-market by as much as the regular session).
- `always_open` trades every local day from midnight to midnight (24x7 in the zone).
"""

import calendar
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from simulators.common.holidays import london_early_closes, london_holidays, us_early_closes, us_holidays
from src.domain.market_data import Interval

ONE_DAY = timedelta(days=1)
Holidays = Callable[[int], frozenset[date]]
EarlyCloses = Callable[[int], dict[date, time]]


def _no_holidays(year: int) -> frozenset[date]:
    return frozenset()


def _no_early_closes(year: int) -> dict[date, time]:
    return {}


@dataclass(frozen=True)
class ExchangeHours:
    timezone: str
    open: time = time(0)
    close: time = time(0)
    holidays: Holidays = _no_holidays
    early_closes: EarlyCloses = _no_early_closes
    pre: time | None = None
    post: time | None = None
    always_open: bool = False

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def overnight(self) -> bool:
        return not self.always_open and self.open >= self.close

    @property
    def has_extended(self) -> bool:
        return self.pre is not None and self.post is not None

    # --- sessions ------------------------------------------------------------------------------------

    def session(self, day: date, extended: bool = False) -> tuple[int, int] | None:
        """[open, close) of trading day `day` in epoch seconds, None when it does not trade."""
        if self.always_open:
            return self._at(day, time(0)), self._at(day + ONE_DAY, time(0))
        if day.weekday() >= 5 or day in self.holidays(day.year):
            return None
        close = self.early_closes(day.year).get(day, self.close)
        if extended and self.pre is not None and self.post is not None:
            shorter = datetime.combine(day, self.close) - datetime.combine(day, close)
            return self._at(day, self.pre), self._at(day, (datetime.combine(day, self.post) - shorter).time())
        opens_on = day - ONE_DAY if self.overnight else day
        return self._at(opens_on, self.open), self._at(day, close)

    def sessions(self, first: date, last: date, extended: bool = False) -> Iterator[tuple[date, int, int]]:
        day = first
        while day <= last:
            found = self.session(day, extended)
            if found is not None:
                yield day, found[0], found[1]
            day += ONE_DAY

    def trading_day(self, t: float, extended: bool = False) -> tuple[date, int, int] | None:
        """The trading day whose session holds the instant `t`, with that session."""
        local = datetime.fromtimestamp(t, self.zone).date()
        for day in (local, local + ONE_DAY):
            found = self.session(day, extended)
            if found is not None and found[0] <= t < found[1]:
                return day, found[0], found[1]
        return None

    def _at(self, day: date, moment: time) -> int:
        return int(datetime.combine(day, moment, self.zone).timestamp())

    # --- bars ----------------------------------------------------------------------------------------

    def bar_open(self, interval: Interval, t: float, extended: bool = False) -> int | None:
        """The open of the bar holding the trade time `t`, None outside the sessions."""
        found = self.trading_day(t, extended)
        if found is None:
            return None
        day, opened, _ = found
        if interval.is_intraday:
            return opened + (int(t) - opened) // interval.seconds * interval.seconds
        first = self._period_start(day, interval)
        return next(start for d, start, _ in self.sessions(first, day, extended) if d >= first)

    def bar_opens(self, interval: Interval, newest: float, count: int, earliest: int,
                  extended: bool = False) -> list[int]:
        """The opens of the newest `count` bars opening at or before `newest` (and not before `earliest`)."""
        found: list[int] = []
        last = datetime.fromtimestamp(newest, self.zone).date() + ONE_DAY
        span = max(7, count // 4)
        while len(found) < count:
            first = last - timedelta(days=span)
            found = [t for t in self._opens(interval, first, last, extended) if earliest <= t <= newest]
            if first.year < 1990 or len(found) >= count:
                break
            span *= 2
        return found[-count:]

    def _opens(self, interval: Interval, first: date, last: date, extended: bool) -> list[int]:
        days = list(self.sessions(first, last, extended))
        if interval.is_intraday:
            step = interval.seconds
            return [t for _, opened, closed in days for t in range(opened, closed, step)]
        opens: dict[date, int] = {}
        for day, opened, _ in days:
            opens.setdefault(self._period_start(day, interval), opened)
        starts = sorted(opens)
        if interval is not Interval.D1:
            starts = starts[1:]  # the first week or month may have trading days before `first`: not seen
        return [opens[start] for start in starts]

    @staticmethod
    def _period_start(day: date, interval: Interval) -> date:
        if interval is Interval.W1:
            return day - timedelta(days=day.weekday())
        if interval is Interval.MN1:
            return day.replace(day=1)
        return day

    # --- TradingView's symbol info ---------------------------------------------------------------------

    def session_string(self, extended: bool = False) -> str:
        if self.always_open:
            return "24x7"
        opened, closed = (self.pre, self.post) if extended else (self.open, self.close)
        assert opened is not None and closed is not None
        return f"{opened:%H%M}-{closed:%H%M}"

    def holidays_string(self, first_year: int, last_year: int) -> str:
        days = sorted(d for year in range(first_year, last_year + 1) for d in self.holidays(year) if d.weekday() < 5)
        return ",".join(d.strftime("%Y%m%d") for d in days)

    def corrections_string(self, first_year: int, last_year: int, extended: bool = False) -> str:
        """`HHMM-HHMM:dates` for the early closes, one entry per distinct period."""
        by_period: dict[str, list[date]] = {}
        for year in range(first_year, last_year + 1):
            for day in sorted(self.early_closes(year)):
                if self.always_open or day.weekday() >= 5:
                    continue
                opened, closed = self.session(day, extended) or (0, 0)
                text = f"{_local(opened, self.zone):%H%M}-{_local(closed, self.zone):%H%M}"
                by_period.setdefault(text, []).append(day)
        return ";".join(f"{p}:{','.join(d.strftime('%Y%m%d') for d in days)}" for p, days in by_period.items())


def _local(t: int, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(t, zone)


def month_of_bar(opened: int) -> int:
    """The calendar month (months since 1970-01) a monthly bar opening at `opened` belongs to: its first
    trading day opens at most a day and a half before the month starts."""
    moment = datetime.fromtimestamp(opened + 2 * 86_400, UTC)
    return moment.year * 12 + moment.month - 1


@lru_cache(maxsize=8)
def cme_holidays(year: int) -> frozenset[date]:
    """The US holidays on which the CME's equity futures do not trade (a simplification: a full close)."""
    return us_holidays(year)


NASDAQ = ExchangeHours("America/New_York", time(9, 30), time(16, 0), us_holidays, us_early_closes, time(4, 0),
                       time(20, 0))
NYSE = NASDAQ
US_INDEX = ExchangeHours("America/New_York", time(9, 30), time(16, 0), us_holidays, us_early_closes)
LSE = ExchangeHours("Europe/London", time(8, 0), time(16, 30), london_holidays, london_early_closes)
CME_FUTURES = ExchangeHours("America/New_York", time(18, 0), time(17, 0), cme_holidays)
FOREX = ExchangeHours("America/New_York", time(17, 0), time(17, 0))


def with_days(hours: ExchangeHours, holidays: frozenset[date], half_days: frozenset[date],
              half_day_close: time = time(13, 0)) -> ExchangeHours:
    """`hours` with more holidays and early closes (a half day closes at `half_day_close`, local time)."""
    base_holidays, base_early = hours.holidays, hours.early_closes

    def more_holidays(year: int) -> frozenset[date]:
        return base_holidays(year) | {d for d in holidays if d.year == year}

    def more_early_closes(year: int) -> dict[date, time]:
        return {**base_early(year), **{d: half_day_close for d in half_days if d.year == year}}

    return replace(hours, holidays=more_holidays, early_closes=more_early_closes)


def always_open(timezone: str) -> ExchangeHours:
    return ExchangeHours(timezone, always_open=True)


def epoch_seconds(day: date) -> int:
    return calendar.timegm(day.timetuple())
