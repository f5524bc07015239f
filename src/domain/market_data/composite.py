"""Composite bars: bars of an interval a source does not serve, built from a finer interval it does.

Rules (each has a test named for it):

* **Grouping.** Each finer bar belongs to the composite bar whose period contains it. By default that is
  the UTC grid (`interval.align(bar.time)`); a source whose bars follow a trading calendar (Yahoo Finance)
  passes `group_open`, giving the open of the composite bar holding a finer bar's time (the calendar's
  `bar_of`: NASDAQ 4h bars open at 09:30 and 13:30 New York), and the composite is stamped at that open,
  the way every series keys its bars. Finer bars stamped alike form one bar even if not adjacent.
* **Values.** Open of the earliest finer bar, close of the latest, highest high, lowest low, summed volume.
* **Partial.** A composite bar is partial when any of its finer bars is; missing finer bars (no trades,
  an outage) do not make it partial, just as the source would have built it from the trades it had.
* **Finer only.** The finer bars are of one fixed-length interval that divides the composite one (or is
  it: a source's own bars restamped by `group_open`, merged if two fall on one stamp). They are given as
  any objects with the bar fields.
"""

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from src.domain.errors import InvalidInterval
from src.domain.market_data.bar import OHLCVBar
from src.domain.market_data.interval import Interval

_DAY = 86_400


class BarLike(Protocol):
    @property
    def time(self) -> int: ...
    @property
    def open(self) -> float: ...
    @property
    def high(self) -> float: ...
    @property
    def low(self) -> float: ...
    @property
    def close(self) -> float: ...
    @property
    def volume(self) -> float: ...
    @property
    def partial(self) -> bool: ...


def compose(bars: Iterable[BarLike], finer: Interval, interval: Interval,
            group_open: Callable[[int], int] | None = None) -> list[OHLCVBar]:
    """Composite bars of `interval`, oldest first, from `finer` bars in any order."""
    check_finer(finer, interval)
    opening = group_open or interval.align
    groups: dict[int, list[BarLike]] = {}
    for bar in sorted(bars, key=lambda bar: bar.time):
        groups.setdefault(opening(bar.time), []).append(bar)
    return [_merge(interval, stamp, members) for stamp, members in sorted(groups.items())]


def check_finer(finer: Interval, interval: Interval) -> None:
    """`finer` has a fixed length that divides `interval`'s (a calendar month: one that divides a day)."""
    length = interval.seconds or _DAY
    divides = 0 < finer.seconds <= length and length % finer.seconds == 0
    if not divides:
        raise InvalidInterval(f"{interval.code} bars cannot be built from {finer.code} bars", field="interval")


def _merge(interval: Interval, stamp: int, members: Sequence[BarLike]) -> OHLCVBar:
    return OHLCVBar(
        interval, stamp, members[0].open, max(b.high for b in members), min(b.low for b in members),
        members[-1].close, sum(b.volume for b in members), any(b.partial for b in members),
    )
