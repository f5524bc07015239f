"""Exchange holidays and early closes, worked out from the exchanges' published rules (shared by the
simulators).

US exchanges (NYSE/Nasdaq rules): closed on New Year's Day (not moved back from a Saturday), Martin Luther King
Day, Presidents' Day, Good Friday, Memorial Day, Juneteenth (from 2022), Independence Day, Labor Day,
Thanksgiving and Christmas (Saturday holidays observed on Friday, Sunday ones on Monday); 13:00 early close on
July 3, the day after Thanksgiving and Christmas Eve when those are trading days. London: the English bank
holidays, 12:30 close on Christmas Eve and New Year's Eve.
"""

from datetime import date, time, timedelta
from functools import lru_cache


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
