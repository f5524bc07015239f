"""A year of NASDAQ bars against pandas: wall-clock bar opens localized in America/New_York, then to UTC.

2024's NASDAQ calendar: ten full holidays and three 13:00 closes. pandas builds the expected bars from
local wall times with its own time-zone handling; the calendar gets the session strings TradingView
publishes and time-zone rules read from zoneinfo."""

import calendar

import numpy as np
import pandas as pd
import pytest

from src.domain.market_data.calendar import SessionCalendar
from src.domain.market_data.interval import Interval
from src.infrastructure.timezones import time_zone_rules

HOLIDAYS = ["2024-01-01", "2024-01-15", "2024-02-19", "2024-03-29", "2024-05-27", "2024-06-19", "2024-07-04",
            "2024-09-02", "2024-11-28", "2024-12-25"]
HALF_DAYS = ["2024-07-03", "2024-11-29", "2024-12-24"]
NASDAQ = SessionCalendar.from_tradingview(
    time_zone_rules("America/New_York", 2023, 2025),
    "0930-1600",
    ",".join(day.replace("-", "") for day in HOLIDAYS),
    "0930-1300:" + ",".join(day.replace("-", "") for day in HALF_DAYS),
)
YEAR_START = calendar.timegm((2024, 1, 1, 0, 0, 0))
YEAR_END = calendar.timegm((2024, 12, 31, 23, 59, 59))


def trading_days() -> pd.DatetimeIndex:
    return pd.bdate_range("2024-01-01", "2024-12-31").difference(pd.DatetimeIndex(HOLIDAYS))


def epoch_seconds(local_wall_times: pd.DatetimeIndex) -> np.ndarray:
    utc = local_wall_times.tz_localize("America/New_York").tz_convert("UTC").tz_localize(None)
    return (utc - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1)


def expected_intraday(minutes: int) -> np.ndarray:
    opens = []
    for day in trading_days():
        close = "12:59" if day.strftime("%Y-%m-%d") in HALF_DAYS else "15:59"
        opens.append(pd.date_range(f"{day:%Y-%m-%d} 09:30", f"{day:%Y-%m-%d} {close}", freq=f"{minutes}min"))
    return np.concatenate([epoch_seconds(index) for index in opens])


@pytest.mark.parametrize("interval", [Interval.M5, Interval.M45, Interval.H1, Interval.H4])
def test_a_year_of_intraday_bars_equals_pandas_wall_clock_ranges(interval):
    expected = expected_intraday(interval.seconds // 60)
    assert len(expected) >= 500  # a non-empty year, so equality is not vacuous
    np.testing.assert_array_equal(NASDAQ.bar_times(interval, YEAR_START, YEAR_END), expected)


@pytest.mark.parametrize(("interval", "period"), [(Interval.D1, "D"), (Interval.W1, "W-SUN"), (Interval.MN1, "M")])
def test_a_year_of_daily_weekly_and_monthly_bars_open_on_each_periods_first_trading_day(interval, period):
    days = trading_days()
    first_days = pd.Series(days, index=days.to_period(period)).groupby(level=0).min()
    expected = epoch_seconds(pd.DatetimeIndex(first_days.to_numpy()) + pd.Timedelta(hours=9, minutes=30))
    np.testing.assert_array_equal(NASDAQ.bar_times(interval, YEAR_START, YEAR_END), expected)
