"""Session calendar figures for a NASDAQ-like symbol (America/New_York, 09:30-16:00, 2024's holidays and
half days).

`calendar_bar_times_per_s`: 1m bar open times generated per second by `SessionCalendar.bar_times` over the
year 2024 (about 97,000 bars), each round on a freshly built calendar; the median of 7 rounds.
`calendar_bar_of_per_s`: `bar_of` calls per second on the live path: trade times a few seconds apart
through two days (in and out of session), each asked at 8 intervals (1m 3m 5m 15m 30m 1h 4h 1d); the
median of 5 rounds.
"""

import calendar
import statistics
import time

from src.domain.market_data.calendar import SessionCalendar
from src.domain.market_data.interval import Interval
from src.infrastructure.timezones import time_zone_rules

HOLIDAYS = "20240101,20240115,20240219,20240329,20240527,20240619,20240704,20240902,20241128,20241225"
HALF_DAYS = "0930-1300:20240703,20241129,20241224"
YEAR_START = calendar.timegm((2024, 1, 1, 0, 0, 0))
YEAR_END = calendar.timegm((2024, 12, 31, 23, 59, 59))
LIVE_INTERVALS = [Interval.parse(code) for code in ("1m", "3m", "5m", "15m", "30m", "1h", "4h", "1d")]


def nasdaq() -> SessionCalendar:
    return SessionCalendar.from_tradingview(time_zone_rules("America/New_York", 2023, 2025), "0930-1600",
                                            HOLIDAYS, HALF_DAYS)


def bar_times_rate() -> float:
    started = time.perf_counter()
    count = nasdaq().bar_times(Interval.M1, YEAR_START, YEAR_END).size
    return count / (time.perf_counter() - started)


def bar_of_rate() -> float:
    cal = nasdaq()
    trades = range(calendar.timegm((2024, 3, 11, 0, 0, 0)), calendar.timegm((2024, 3, 13, 0, 0, 0)), 7)
    started = time.perf_counter()
    for t in trades:
        for interval in LIVE_INTERVALS:
            cal.bar_of(t, interval)
    return len(trades) * len(LIVE_INTERVALS) / (time.perf_counter() - started)


def run() -> dict[str, float]:
    return {
        "calendar_bar_times_per_s": float(round(statistics.median(bar_times_rate() for _ in range(7)))),
        "calendar_bar_of_per_s": float(round(statistics.median(bar_of_rate() for _ in range(5)))),
    }


if __name__ == "__main__":
    print(run())
