"""Time-zone rules for the domain, read from the IANA database through the standard library's `zoneinfo`.

`time_zone_rules(name, start_year, end_year)` lists every UTC offset change of the zone from 1 January
`start_year` to 1 January `end_year + 1` (UTC) as a `TimeZoneRules`. Outside that span the offset in force
at its edge continues, so ask for the years the data covers. Transitions are found by sampling the offset
every 6 hours and bisecting each change down to the second (zones do not change offset twice within
6 hours); results are cached per (name, years).
"""

import calendar
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from src.domain.errors import InvalidTimeZone
from src.domain.market_data.time_zone import TimeZoneRules

_STEP_S = 6 * 3600


@lru_cache(maxsize=128)
def time_zone_rules(name: str, start_year: int, end_year: int) -> TimeZoneRules:
    if end_year < start_year:
        raise ValueError(f"end_year {end_year} is before start_year {start_year}")
    zone = _zone(name)
    start = calendar.timegm((start_year, 1, 1, 0, 0, 0))
    end = calendar.timegm((end_year + 1, 1, 1, 0, 0, 0))
    transitions, offsets = _transitions(zone, start, end)
    return TimeZoneRules(name, _offset(zone, start), tuple(transitions), tuple(offsets))


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidTimeZone(f"unknown time zone {name!r} (expected an IANA name such as America/New_York)",
                              field="timezone") from None


def _offset(zone: ZoneInfo, t: int) -> int:
    offset = datetime.fromtimestamp(t, zone).utcoffset()
    assert offset is not None  # a ZoneInfo always knows its offset
    return int(offset.total_seconds())


def _transitions(zone: ZoneInfo, start: int, end: int) -> tuple[list[int], list[int]]:
    transitions: list[int] = []
    offsets: list[int] = []
    before, current = start, _offset(zone, start)
    for after in range(start + _STEP_S, end + _STEP_S, _STEP_S):
        offset = _offset(zone, min(after, end))
        if offset != current:
            transitions.append(_first_second_with(zone, offset, before, min(after, end)))
            offsets.append(offset)
            current = offset
        before = after
    return transitions, offsets


def _first_second_with(zone: ZoneInfo, offset: int, low: int, high: int) -> int:
    """The first second in (low, high] whose offset is `offset`, given it is not at `low` and is at `high`."""
    while high - low > 1:
        middle = (low + high) // 2
        if _offset(zone, middle) == offset:
            high = middle
        else:
            low = middle
    return high
