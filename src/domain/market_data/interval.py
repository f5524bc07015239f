"""Bar intervals and their bucket alignment on the UTC grid.

A bar's time is the open time of the half-open period [open, open + length) that contains it.
Intraday intervals are aligned to the Unix epoch, `1d` to 00:00 UTC, `1w` to Monday 00:00 UTC
and `1M` to the first day of the month 00:00 UTC. All timestamps are integer epoch seconds (UTC).
The calendar arithmetic itself lives in `utc_calendar`, shared with the chunked store.
"""

from enum import Enum

from src.domain.errors import InvalidInterval
from src.domain.market_data import utc_calendar

_DAY = utc_calendar.DAY


class Interval(Enum):
    M1 = ("1m", 60)
    M3 = ("3m", 180)
    M5 = ("5m", 300)
    M15 = ("15m", 900)
    M30 = ("30m", 1800)
    M45 = ("45m", 2700)
    H1 = ("1h", 3600)
    H2 = ("2h", 7200)
    H3 = ("3h", 10800)
    H4 = ("4h", 14400)
    D1 = ("1d", _DAY)
    W1 = ("1w", utc_calendar.WEEK)
    MN1 = ("1M", 0)  # calendar month: no fixed length

    def __init__(self, code: str, seconds: int) -> None:
        self.code = code
        self.seconds = seconds

    @classmethod
    def parse(cls, code: str) -> "Interval":
        """One of the 13 names (`1m` ... `4h`, `1d`, `1w`, `1M`); providers translate their own codes."""
        interval = _BY_CODE.get(code)
        if interval is None:
            raise InvalidInterval(f"unknown interval {code!r}; expected one of {', '.join(_BY_CODE)}",
                                  field="interval")
        return interval

    @property
    def is_intraday(self) -> bool:
        return self.seconds != 0 and self.seconds < _DAY

    def align(self, ts: int) -> int:
        """Open time of the bar that contains `ts`."""
        if self is Interval.MN1:
            return utc_calendar.month_start(ts)
        if self is Interval.W1:
            return utc_calendar.week_start(ts)
        return ts - ts % self.seconds

    def next_open(self, bar_time: int) -> int:
        """Open time of the bar after the one opening at the aligned `bar_time` (its close time)."""
        if self is Interval.MN1:
            return utc_calendar.add_months(bar_time, 1)
        return bar_time + self.seconds

    def is_aligned(self, ts: int) -> bool:
        return self.align(ts) == ts

    def __str__(self) -> str:
        return self.code


_BY_CODE: dict[str, Interval] = {interval.code: interval for interval in Interval}
