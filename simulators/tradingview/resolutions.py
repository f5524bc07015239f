"""TradingView's resolution codes and the 7th `create_series` parameter (the range), as the simulator reads
them (protocol reference §4.2, §7).

Resolutions: the 13 standard codes and their aliases map to `Interval`; `3M`, `6M` and `12M` to `Months`
(bars of 3, 6 or 12 calendar months, starting in January, built from the monthly bars); other minute
or day counts are custom resolutions (refused to free plans); anything else is invalid.

Ranges: `""` is count mode; `r,<from>:<to>` (epoch seconds) the bars opening in [from, to]; a period back
from now: `ALL`, `YTD`, `<n>d`/`<n>D` days, `<n>W` weeks, `<n>M` months, `<n>Y` years (`12M`, `60M`,
`5d` ...). Anything else is invalid.
"""

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from src.domain.errors import InvalidInterval
from src.domain.market_data import Interval


class Resolution(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def seconds(self) -> int: ...
    @property
    def is_intraday(self) -> bool: ...
    def align(self, ts: int) -> int: ...
    def next_open(self, bar_time: int) -> int: ...


@dataclass(frozen=True, slots=True)
class Months:
    """Bars of `months` calendar months, aligned to January (quarters, half years, years)."""

    months: int
    code: str
    seconds: int = 0
    is_intraday: bool = False

    def align(self, ts: int) -> int:
        moment = datetime.fromtimestamp(ts, UTC)
        index = moment.year * 12 + moment.month - 1
        index -= index % self.months
        return calendar.timegm((index // 12, index % 12 + 1, 1, 0, 0, 0))

    def next_open(self, bar_time: int) -> int:
        return add_months(bar_time, self.months)


def add_months(ts: int, months: int) -> int:
    moment = datetime.fromtimestamp(ts, UTC)
    index = moment.year * 12 + moment.month - 1 + months
    return calendar.timegm((index // 12, index % 12 + 1, 1, 0, 0, 0))


STANDARD: dict[str, Resolution] = {
    "1": Interval.M1, "3": Interval.M3, "5": Interval.M5, "15": Interval.M15, "30": Interval.M30,
    "45": Interval.M45, "60": Interval.H1, "120": Interval.H2, "180": Interval.H3, "240": Interval.H4,
    "1D": Interval.D1, "1W": Interval.W1, "1M": Interval.MN1,
    "3M": Months(3, "3M"), "6M": Months(6, "6M"), "12M": Months(12, "12M"),
}
ALIASES = {"1H": "60", "2H": "120", "3H": "180", "4H": "240", "D": "1D", "W": "1W", "M": "1M"}
_PERIOD = re.compile(r"^(\d{1,4})([dDWMY])$")
_RANGE = re.compile(r"^r,(\d{1,12}):(\d{1,12})$")
_DAY = 86_400


def resolution_of(code: object) -> Resolution | None:
    """The resolution of a code; None for a custom resolution; InvalidInterval (a ValueError) otherwise."""
    if not isinstance(code, str):
        raise TypeError("resolution")
    code = ALIASES.get(code, code)
    if code in STANDARD:
        return STANDARD[code]
    if code.isdigit() or (code[:-1].isdigit() and code[-1:] in "SDWM"):
        return None
    raise InvalidInterval(f"bad resolution {code!r}")


def range_of(text: object, now: float) -> tuple[int, int] | None:
    """The [from, to] a range parameter asks for, None in count mode; ValueError when malformed."""
    if text is None or text == "":
        return None
    if not isinstance(text, str):
        raise TypeError("range")
    end = int(now)
    if text == "ALL":
        return 0, end
    if text == "YTD":
        return calendar.timegm((datetime.fromtimestamp(end, UTC).year, 1, 1, 0, 0, 0)), end
    if match := _RANGE.match(text):
        return int(match[1]), int(match[2])
    if match := _PERIOD.match(text):
        return _back(end, int(match[1]), match[2]), end
    raise ValueError(f"bad range {text!r}")


def _back(end: int, count: int, unit: str) -> int:
    if unit in "dD":
        return end - count * _DAY
    if unit == "W":
        return end - count * 7 * _DAY
    return add_months(end - end % _DAY, -count * (12 if unit == "Y" else 1))
