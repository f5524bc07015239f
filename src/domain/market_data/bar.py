"""One OHLCV bar: the prices and volume traded in one interval, stamped with its open time.

A bar alone cannot tell whether its time is a bar open: that depends on the series' trading calendar
(NASDAQ 1h bars open at 09:30 New York time, BTCUSDT's on the UTC grid). The rule is checked where the
calendar is known, in one place: `src.domain.market_data.bar_opens`.
"""

import math
from dataclasses import dataclass

from src.domain.errors import InvalidBar
from src.domain.market_data.interval import Interval


@dataclass(frozen=True, slots=True)
class OHLCVBar:
    interval: Interval
    time: int  # open time, epoch seconds UTC: a bar open of the series' calendar (`bar_opens`)
    open: float
    high: float
    low: float
    close: float
    volume: float = 0.0  # series without volume (indices) carry 0
    # True when the bar does not cover its whole period (live bars started mid-period and never seeded
    # from the source's history); a partial bar never replaces a complete stored one.
    partial: bool = False

    def __post_init__(self) -> None:
        o, h, lo, c, v = self.open, self.high, self.low, self.close, self.volume
        if not all(map(math.isfinite, (o, h, lo, c, v))):
            raise InvalidBar(f"bar at {self.time}: prices and volume must be finite", field="price")
        if lo > min(o, c) or h < max(o, c) or lo > h:
            raise InvalidBar(
                f"bar at {self.time}: need low <= min(open, close) and high >= max(open, close)",
                field="price",
            )
        if v < 0:
            raise InvalidBar(f"bar at {self.time}: volume must be >= 0", field="volume")
        if type(self.time) is not int or self.time < 0:
            raise InvalidBar(f"bar time {self.time!r} must be whole epoch seconds >= 0", field="time")

    def supersedes(self, stored_partial: bool | None) -> bool:
        """Whether this bar may replace what is stored at its time (`stored_partial`: None when nothing is,
        else whether the stored bar is partial). A partial bar never replaces a complete one; a complete
        bar replaces anything; between partial bars the later write wins."""
        return stored_partial is None or not self.partial or stored_partial

    @property
    def closes_at(self) -> int:
        """This bar's close on the UTC grid (the next grid open), as for a 24x7 UTC calendar; a bar of a
        session calendar closes at `SessionCalendar.bar_close`."""
        return self.interval.next_open(self.interval.align(self.time))
