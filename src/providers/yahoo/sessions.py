"""An exchange's trading sessions, read from the chart answer's metadata in TradingView's session strings, so
that a `SessionCalendar` is built for a Yahoo symbol exactly as for a TradingView one
(`SessionCalendar.from_tradingview(time_zone, session, extra["session_holidays"], extra["session-correction"])`).

From the regular `tradingPeriods` of the recent sessions (a month of them):
- `session`: the most common local `HHMM-HHMM`, on the weekdays that traded (`:digits`, 1 = Sunday, when not
  Monday-Friday); `24x7` when every day trades all day.
- `session_holidays`: the dates in the covered span, on those weekdays, without a session.
- `session-correction`: the dates whose session differs from the regular one (early closes), `HHMM-HHMM:dates`.
- `session_extended`: the regular session widened by the pre- and post-market lengths of `currentTradingPeriod`.
A holiday or early close outside the covered month is not known to Yahoo's answer, so not to the calendar.
"""

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

ALWAYS_OPEN = "24x7"
WEEKDAYS = frozenset(range(5))


def _hhmm(moment: datetime) -> str:
    return f"{moment.hour:02d}{moment.minute:02d}"


def _local(periods: Iterable[tuple[int, int]], zone: ZoneInfo) -> dict[date, str]:
    """Each trading day (the local date a session ends on) with its `HHMM-HHMM`."""
    days: dict[date, str] = {}
    for start, end in periods:
        opens, closes = datetime.fromtimestamp(start, zone), datetime.fromtimestamp(end, zone)
        day = (closes - timedelta(seconds=1)).date()
        days[day] = f"{_hhmm(opens)}-{_hhmm(closes)}"
    return days


def _digits(weekdays: Iterable[int]) -> str:
    return "".join(str((day + 1) % 7 + 1) for day in sorted(weekdays, key=lambda d: (d + 1) % 7))


def session_strings(periods: Iterable[tuple[int, int]], zone: ZoneInfo,
                    current: dict[str, Any] | None = None) -> dict[str, str]:
    """`session`, `session_holidays`, `session-correction` and `session_extended` (those that apply)."""
    days = _local(periods, zone)
    if not days:
        return {}
    regular = Counter(days.values()).most_common(1)[0][0]
    weekdays = frozenset(day.weekday() for day in days)
    if regular == "0000-0000" and len(weekdays) == 7:
        return {"session": ALWAYS_OPEN}
    found = {"session": regular if weekdays == WEEKDAYS else f"{regular}:{_digits(weekdays)}"}
    holidays = [d for d in _span(min(days), max(days)) if d.weekday() in weekdays and d not in days]
    if holidays:
        found["session_holidays"] = ",".join(d.strftime("%Y%m%d") for d in holidays)
    corrections = _corrections({d: p for d, p in days.items() if p != regular})
    if corrections:
        found["session-correction"] = corrections
    extended = _extended(current or {}, zone, regular)
    if extended:
        found["session_extended"] = extended
    return found


def _span(first: date, last: date) -> Iterable[date]:
    return (first + timedelta(days=n) for n in range((last - first).days + 1))


def _corrections(odd: dict[date, str]) -> str:
    by_periods: dict[str, list[date]] = {}
    for day, periods in sorted(odd.items()):
        by_periods.setdefault(periods, []).append(day)
    return ";".join(f"{p}:{','.join(d.strftime('%Y%m%d') for d in ds)}" for p, ds in by_periods.items())


def _extended(current: dict[str, Any], zone: ZoneInfo, regular: str) -> str | None:
    """The regular session widened by the current day's pre-market and post-market lengths (today may close
    early, so its own bounds are not used)."""
    pre, now, post = (current.get(name) for name in ("pre", "regular", "post"))
    if not all(isinstance(p, dict) and "start" in p and "end" in p for p in (pre, now, post)):
        return None
    assert isinstance(pre, dict) and isinstance(now, dict) and isinstance(post, dict)
    before, after = int(now["start"]) - int(pre["start"]), int(post["end"]) - int(now["end"])
    if before <= 0 and after <= 0:
        return None
    day = datetime(2001, 1, 1, tzinfo=zone)  # wall-clock arithmetic on a day without a clock change
    opens = day.replace(hour=int(regular[:2]), minute=int(regular[2:4])) - timedelta(seconds=max(before, 0))
    closes = day.replace(hour=int(regular[5:7]), minute=int(regular[7:9])) + timedelta(seconds=max(after, 0))
    return f"{_hhmm(opens)}-{_hhmm(closes)}"
