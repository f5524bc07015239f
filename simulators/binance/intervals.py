"""Binance kline intervals: names, alignment and the `timeZone` parameter.

Open times are aligned in the requested time zone (default UTC): fixed intervals to multiples of their length
since the epoch, `1w` to Mondays, `1M` to the first of the month; `startTime`/`endTime` stay in UTC.
"""

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime

SECOND_MS = 1_000
MINUTE_MS = 60 * SECOND_MS
DAY_MS = 1_440 * MINUTE_MS
MONDAY_SHIFT_MS = 4 * DAY_MS  # 1970-01-01 was a Thursday; weeks open on Monday

_LENGTHS_MS = {
    "1s": SECOND_MS, "1m": MINUTE_MS, "3m": 3 * MINUTE_MS, "5m": 5 * MINUTE_MS, "15m": 15 * MINUTE_MS,
    "30m": 30 * MINUTE_MS, "1h": 60 * MINUTE_MS, "2h": 120 * MINUTE_MS, "4h": 240 * MINUTE_MS,
    "6h": 360 * MINUTE_MS, "8h": 480 * MINUTE_MS, "12h": 720 * MINUTE_MS, "1d": DAY_MS, "3d": 3 * DAY_MS,
    "1w": 7 * DAY_MS, "1M": 0,
}
INTERVALS = tuple(_LENGTHS_MS)
_TIME_ZONE = re.compile(r"^([+-]?)(\d{1,2})(?::(\d{2}))?$")


@dataclass(frozen=True, slots=True)
class KlineInterval:
    name: str
    offset_ms: int = 0  # the time zone's offset from UTC

    @property
    def length_ms(self) -> int:
        return _LENGTHS_MS[self.name]

    def floor(self, time_ms: int) -> int:
        """Open time of the bar containing `time_ms`."""
        local = time_ms + self.offset_ms
        if self.name == "1M":
            moment = datetime.fromtimestamp(local // 1000, UTC)
            return calendar.timegm((moment.year, moment.month, 1, 0, 0, 0)) * 1000 - self.offset_ms
        shift = MONDAY_SHIFT_MS if self.name == "1w" else 0
        return local - (local - shift) % self.length_ms - self.offset_ms

    def next(self, open_ms: int) -> int:
        if self.name != "1M":
            return open_ms + self.length_ms
        moment = datetime.fromtimestamp((open_ms + self.offset_ms) // 1000, UTC)
        year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
        return calendar.timegm((year, month, 1, 0, 0, 0)) * 1000 - self.offset_ms

    def previous(self, open_ms: int) -> int:
        return self.floor(open_ms - 1)

    def ceil(self, time_ms: int) -> int:
        """Open time of the first bar opening at or after `time_ms`."""
        start = self.floor(time_ms)
        return start if start == time_ms else self.next(start)


def parse_time_zone(text: str) -> int | None:
    """`timeZone` (`"0"`, `"-1:00"`, `"05:45"`, `"+8"`) to an offset in ms; None when malformed or outside
    [-12:00, +14:00]."""
    match = _TIME_ZONE.match(text.strip())
    if not match:
        return None
    sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
    if minutes >= 60:
        return None
    offset = (hours * 60 + minutes) * MINUTE_MS * (-1 if sign == "-" else 1)
    return offset if -12 * 60 * MINUTE_MS <= offset <= 14 * 60 * MINUTE_MS else None
