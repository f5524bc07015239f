"""Trading days, weeks and months as integers, for grouping a calendar's sessions into `1d`/`1w`/`1M` bars.

A trading day is counted in *epoch days*: the number of days from 1970-01-01 to its local date. The
period of a trading day is an integer id: the day itself for `1d`; for `1w` the index of the week that
starts on `first_weekday` (0 = Monday) and contains the day; for `1M` the months since 1970-01. Trading
periods are defined by trading days, never by instants, so a session that opens the evening before its
trading day (an overnight session) belongs to the period of the day it ends on.
"""

from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from src.domain.market_data.interval import Interval

type Days = npt.NDArray[np.int64]

_EPOCH = date(1970, 1, 1)
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday


def epoch_day(day: date) -> int:
    return (day - _EPOCH).days


def calendar_date(day: int) -> date:
    return _EPOCH + timedelta(days=day)


def weekday(day: int) -> int:
    """0 = Monday ... 6 = Sunday, as `date.weekday()`."""
    return (day + _EPOCH_WEEKDAY) % 7


def period_of(day: int, interval: Interval, first_weekday: int) -> int:
    if interval is Interval.W1:
        return (day + _EPOCH_WEEKDAY - first_weekday) // 7
    if interval is Interval.MN1:
        moment = calendar_date(day)
        return (moment.year - 1970) * 12 + moment.month - 1
    return day


def periods_of(days: Days, interval: Interval, first_weekday: int) -> Days:
    """`period_of` for an array of trading days."""
    if interval is Interval.W1:
        return (days + (_EPOCH_WEEKDAY - first_weekday)) // 7
    if interval is Interval.MN1:
        return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return days


def days_of_period(period: int, interval: Interval, first_weekday: int) -> tuple[int, int]:
    """The first and last trading day (epoch days, inclusive) of a period."""
    if interval is Interval.W1:
        first = period * 7 - _EPOCH_WEEKDAY + first_weekday
        return first, first + 6
    if interval is Interval.MN1:
        return _month_start(period), _month_start(period + 1) - 1
    return period, period


def _month_start(months: int) -> int:
    year, month = divmod(months, 12)
    return epoch_day(date(1970 + year, month + 1, 1))
