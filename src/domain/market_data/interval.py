"""Bar intervals and their bucket alignment.

A bar's time is the open time of the half-open period [open, open + length) that contains it.
Intraday intervals are aligned to the Unix epoch, `1d` to 00:00 UTC, `1w` to Monday 00:00 UTC
and `1M` to the first day of the month 00:00 UTC. All timestamps are integer epoch seconds (UTC).
"""

import calendar
from datetime import UTC, datetime
from enum import Enum

from src.domain.errors import InvalidInterval

_MINUTE = 60
_DAY = 86_400
_WEEK = 7 * _DAY
# 1970-01-01 was a Thursday; the first Monday 00:00 UTC after the epoch is 1970-01-05.
_MONDAY_OFFSET = 4 * _DAY


class Interval(Enum):
    M1 = ("1m", 60, "1")
    M3 = ("3m", 180, "3")
    M5 = ("5m", 300, "5")
    M15 = ("15m", 900, "15")
    M30 = ("30m", 1800, "30")
    M45 = ("45m", 2700, "45")
    H1 = ("1h", 3600, "60")
    H2 = ("2h", 7200, "120")
    H3 = ("3h", 10800, "180")
    H4 = ("4h", 14400, "240")
    D1 = ("1d", _DAY, "1D")
    W1 = ("1w", _WEEK, "1W")
    MN1 = ("1M", 0, "1M")  # calendar month: no fixed length

    def __init__(self, code: str, seconds: int, tradingview_code: str) -> None:
        self.code = code
        self.seconds = seconds
        self.tradingview_code = tradingview_code

    @classmethod
    def parse(cls, code: str) -> "Interval":
        """Accept our codes (`1m`, `1h`, `1M`) and TradingView's (`1`, `60`, `1D`)."""
        for interval in cls:
            if code in (interval.code, interval.tradingview_code):
                return interval
        valid = ", ".join(i.code for i in cls)
        raise InvalidInterval(f"unknown interval {code!r}; expected one of {valid}", field="interval")

    @property
    def is_intraday(self) -> bool:
        return self.seconds != 0 and self.seconds < _DAY

    def align(self, ts: int) -> int:
        """Open time of the bar that contains `ts`."""
        if self is Interval.MN1:
            moment = datetime.fromtimestamp(ts, UTC)
            return calendar.timegm((moment.year, moment.month, 1, 0, 0, 0))
        if self is Interval.W1:
            return ts - (ts - _MONDAY_OFFSET) % _WEEK
        return ts - ts % self.seconds

    def next_open(self, bar_time: int) -> int:
        """Open time of the bar after the one opening at the aligned `bar_time` (its close time)."""
        if self is Interval.MN1:
            moment = datetime.fromtimestamp(bar_time, UTC)
            year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
            return calendar.timegm((year, month, 1, 0, 0, 0))
        return bar_time + self.seconds

    def is_aligned(self, ts: int) -> bool:
        return self.align(ts) == ts

    def __str__(self) -> str:
        return self.code
