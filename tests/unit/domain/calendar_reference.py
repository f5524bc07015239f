"""A straightforward second implementation of the session calendar, to test `SessionCalendar` against.

It works from a structured description (`Spec`) rather than the parsed string, converts wall-clock times
with the standard library's `zoneinfo` (first occurrence in a fold) rather than `TimeZoneRules`, and
finds bars by walking calendar dates with `datetime` rather than epoch-day arithmetic. A wall time that
falls in a daylight-saving gap raises `InGap`: tests skip those examples (the calendar's gap rule has
hand-worked tests of its own).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

type Period = tuple[int, int]  # minutes as written in HHMM-HHMM (an end written 0000 is 0)
type Span = tuple[int, int]  # UTC [open, close)

WEEKDAY_DIGITS = "23456"
ONE_DAY = timedelta(days=1)


class InGap(Exception):
    pass


@dataclass(frozen=True)
class Segment:
    periods: tuple[Period, ...]
    days: str | None  # TradingView digits (1 = Sunday) or None for the Monday-Friday default


@dataclass(frozen=True)
class Spec:
    zone: str
    segments: tuple[Segment, ...]
    first_day: str | None = None
    holidays: tuple[date, ...] = ()
    corrections: tuple[tuple[tuple[Period, ...], tuple[date, ...]], ...] = ()

    def session_string(self) -> str:
        text = "|".join(_periods_text(s.periods) + (f":{s.days}" if s.days else "") for s in self.segments)
        return f"{self.first_day};{text}" if self.first_day else text

    def holidays_string(self) -> str:
        return ",".join(d.strftime("%Y%m%d") for d in self.holidays)

    def corrections_string(self) -> str:
        return ";".join(
            _periods_text(periods) + ":" + ",".join(d.strftime("%Y%m%d") for d in dates)
            for periods, dates in self.corrections
        )


def _periods_text(periods: tuple[Period, ...]) -> str:
    return ",".join(f"{a // 60:02d}{a % 60:02d}-{b // 60:02d}{b % 60:02d}" for a, b in periods)


def written_periods(spec: Spec, day: date) -> list[Period]:
    corrected = [dates for _, dates in spec.corrections if day in dates]
    if corrected:
        return [p for periods, dates in spec.corrections if day in dates for p in periods]
    if day in spec.holidays:
        return []
    digit = str(day.isoweekday() % 7 + 1)
    explicit = [s for s in spec.segments if s.days and digit in s.days]
    if explicit:
        return [p for s in explicit for p in s.periods]
    return [p for s in spec.segments if s.days is None for p in s.periods] if digit in WEEKDAY_DIGITS else []


def wall_to_utc(wall: datetime, zone: ZoneInfo) -> int:
    instant = int(wall.replace(tzinfo=zone).timestamp())
    if datetime.fromtimestamp(instant, zone).replace(tzinfo=None) != wall:
        raise InGap(wall)
    return instant


def sessions(spec: Spec, day: date) -> list[Span]:
    """The UTC sessions of one trading day, in time order."""
    zone = ZoneInfo(spec.zone)
    midnight = datetime.combine(day, time())
    spans = []
    for start, end in written_periods(spec, day):
        opens = midnight + timedelta(minutes=start)
        closes = midnight + (ONE_DAY if end == 0 else timedelta(minutes=end))
        if end != 0 and start >= end:
            opens -= ONE_DAY
        spans.append((wall_to_utc(opens, zone), wall_to_utc(closes, zone)))
    return sorted(spans)


def local_date(spec: Spec, t: int) -> date:
    return datetime.fromtimestamp(t, ZoneInfo(spec.zone)).date()


def session_at(spec: Spec, t: int) -> tuple[date, Span] | None:
    around = local_date(spec, t)
    for day in (around - ONE_DAY, around, around + ONE_DAY):
        for opened, closed in sessions(spec, day):
            if opened <= t < closed:
                return day, (opened, closed)
    return None


def period_days(spec: Spec, day: date, code: str) -> list[date]:
    if code == "1w":
        first_weekday = 0 if spec.first_day is None else (int(spec.first_day) + 5) % 7
        first = day - timedelta(days=(day.weekday() - first_weekday) % 7)
        return [first + timedelta(days=i) for i in range(7)]
    if code == "1M":
        first = day.replace(day=1)
        return [first + timedelta(days=i) for i in range(31) if (first + timedelta(days=i)).month == first.month]
    return [day]


def bar_at(spec: Spec, t: int, code: str, seconds: int) -> Span | None:
    """The [open, close) of the bar holding `t`, by the rules stated in `calendar.py`."""
    found = session_at(spec, t)
    if found is None:
        return None
    day, (opened, closed) = found
    if code in ("1d", "1w", "1M"):
        spans = [span for d in period_days(spec, day, code) for span in sessions(spec, d)]
        return spans[0][0], spans[-1][1]
    bar = opened + (t - opened) // seconds * seconds
    return bar, min(bar + seconds, closed)


def utc_date(t: int) -> date:
    return datetime.fromtimestamp(t, UTC).date()
