"""TradingView's session strings, read into `WeeklySessions`, holiday dates and per-date corrections.

The grammar (TradingView Charting Library, "Trading Sessions"; Pine Script "Sessions"):

    session    := "24x7" | schedule | first_day ";" schedule | schedule ";" first_day
    schedule   := segment ("|" segment)*
    segment    := periods [":" days]
    periods    := period ("," period)*
    period     := HHMM "-" HHMM           (HH 00-23, MM 00-59, exchange-local wall time)
    days, first_day := digits 1-7, 1 = Sunday, 2 = Monday ... 7 = Saturday

* A segment without days applies to Monday-Friday (`23456`); a segment with days replaces that default on
  its days; segments naming the same day add their periods to it. Saturday and Sunday trade only when a
  segment names them. `24x7` is `0000-0000` on every day.
* `first_day` is the weekday a trading week starts on (Monday when absent); it decides weekly bars.
* A period whose start is at or after its end is an **overnight** session: it opens on the previous
  calendar day and belongs to the trading day on which it ends (`1700-1600`, and `1700-1700` for 24 hours
  opening at 17:00 the evening before). An end of `0000` is the midnight that ends the trading day, so
  `0000-0000` is the whole day and `1800-0000` runs from 18:00 to midnight on the same trading day.
* `session_holidays`: `YYYYMMDD` dates separated by commas: trading days without any session.
* `session-correction`: entries `periods:dates` separated by `;`, each date `YYYYMMDD`; on those trading
  days the periods replace the regular sessions (a correction wins over a holiday of the same date, and
  may open a day that normally does not trade). Empty periods (`:20241225`) mean closed that day.

Malformed text raises `InvalidSession` naming the field it came from.
"""

import re
from datetime import date

from src.domain.errors import InvalidSession
from src.domain.market_data.sessions import (
    DAYS_PER_WEEK,
    MINUTES_PER_DAY,
    DaySessions,
    Session,
    WeeklySessions,
    check_no_overlap,
)

SESSION_FIELD = "session"
HOLIDAYS_FIELD = "session_holidays"
CORRECTIONS_FIELD = "session-correction"
ALWAYS_OPEN = "24x7"

_PERIOD = re.compile(r"([01]\d|2[0-3])([0-5]\d)-([01]\d|2[0-3])([0-5]\d)")
_DAYS = re.compile(r"[1-7]+")
_DATE = re.compile(r"\d{8}")
_WEEKDAYS = (0, 1, 2, 3, 4)  # Monday-Friday, TradingView's default `23456`


def parse_session(text: str) -> WeeklySessions:
    """A TradingView `session` string as the weekly schedule of trading sessions."""
    text = text.strip()
    if text == ALWAYS_OPEN:
        return WeeklySessions.every_day((Session(0, MINUTES_PER_DAY),))
    schedule, first_weekday = _split_first_day(text)
    try:
        return WeeklySessions(_days_of(schedule), first_weekday)
    except InvalidSession as error:
        raise InvalidSession(f"session {text!r}: {error}", field=SESSION_FIELD) from None


def parse_holidays(text: str) -> frozenset[date]:
    """A TradingView `session_holidays` string as a set of dates."""
    text = text.strip()
    return frozenset(_dates(text, HOLIDAYS_FIELD)) if text else frozenset()


def parse_corrections(text: str) -> dict[date, DaySessions]:
    """A TradingView `session-correction` string as the sessions of each corrected trading day."""
    text = text.strip()
    corrected: dict[date, list[Session]] = {}
    for entry in text.split(";") if text else ():
        periods, separator, dates = entry.partition(":")
        if not separator:
            raise InvalidSession(f"correction {entry!r} has no ':' before its dates", field=CORRECTIONS_FIELD)
        sessions = _periods(periods, CORRECTIONS_FIELD) if periods else []
        for day in _dates(dates, CORRECTIONS_FIELD):
            corrected.setdefault(day, []).extend(sessions)
    return {day: _sorted_day(sessions, CORRECTIONS_FIELD) for day, sessions in corrected.items()}


def parse_period(text: str, field: str = SESSION_FIELD) -> Session:
    """`HHMM-HHMM` as a `Session` of its trading day (overnight and midnight rules above)."""
    match = _PERIOD.fullmatch(text)
    if match is None:
        raise InvalidSession(f"{text!r} is not a HHMM-HHMM period", field=field)
    start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
    start, end = start_h * 60 + start_m, end_h * 60 + end_m
    if end == 0:
        return Session(start, MINUTES_PER_DAY)
    return Session(start, end) if start < end else Session(start - MINUTES_PER_DAY, end)


def _split_first_day(text: str) -> tuple[str, int]:
    parts = text.split(";")
    if len(parts) == 1:
        return text, 0
    if len(parts) == 2 and _is_one_day(parts[0]):
        return parts[1], _weekday(parts[0])
    if len(parts) == 2 and _is_one_day(parts[1]):
        return parts[0], _weekday(parts[1])
    raise InvalidSession(f"session {text!r}: ';' must separate one first-day digit 1-7", field=SESSION_FIELD)


def _days_of(schedule: str) -> tuple[DaySessions, ...]:
    defaults: list[Session] = []
    explicit: dict[int, list[Session]] = {}
    for segment in schedule.split("|"):
        periods, separator, days = segment.partition(":")
        sessions = _periods(periods, SESSION_FIELD)
        if not separator:
            defaults += sessions
            continue
        for weekday in _weekdays(days):
            explicit.setdefault(weekday, []).extend(sessions)
    week = [explicit.get(day, defaults if day in _WEEKDAYS else []) for day in range(DAYS_PER_WEEK)]
    return tuple(_sorted_day(sessions, SESSION_FIELD) for sessions in week)


def _periods(text: str, field: str) -> list[Session]:
    return [parse_period(period, field) for period in text.split(",")]


def _sorted_day(sessions: list[Session], field: str) -> DaySessions:
    ordered = tuple(sorted(sessions))
    try:
        check_no_overlap((s.start, s.end) for s in ordered)
    except InvalidSession as error:
        raise InvalidSession(str(error), field=field) from None
    return ordered


def _weekdays(text: str) -> list[int]:
    if _DAYS.fullmatch(text) is None or len(set(text)) != len(text):
        raise InvalidSession(f"days {text!r} must be distinct digits 1-7 (1 = Sunday)", field=SESSION_FIELD)
    return [_weekday(digit) for digit in text]


def _is_one_day(text: str) -> bool:
    return len(text) == 1 and _DAYS.fullmatch(text) is not None


def _weekday(digit: str) -> int:
    """TradingView's day digit (1 = Sunday ... 7 = Saturday) as `date.weekday()` (0 = Monday)."""
    return (int(digit) + 5) % DAYS_PER_WEEK


def _dates(text: str, field: str) -> list[date]:
    return [_date(part, field) for part in text.split(",")]


def _date(text: str, field: str) -> date:
    if _DATE.fullmatch(text) is None:
        raise InvalidSession(f"{text!r} is not a YYYYMMDD date", field=field)
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise InvalidSession(f"{text!r} is not a calendar date", field=field) from None
