"""The bars of one series (source, exchange, symbol, interval): sorted, unique by time, each at a bar open
of the series' trading calendar (`bar_opens`)."""

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from src.domain.errors import InvalidSeries
from src.domain.market_data.bar import OHLCVBar
from src.domain.market_data.bar_opens import Rejection, misplaced, reason, rejections
from src.domain.market_data.calendar import SessionCalendar
from src.domain.market_data.instrument import Instrument, validate_source
from src.domain.market_data.interval import Interval
from src.domain.market_data.symbol import Symbol


@dataclass(frozen=True, slots=True)
class SeriesKey:
    """One series' identity: the same symbol from two sources is two series."""

    symbol: Symbol
    interval: Interval
    source: str

    def __post_init__(self) -> None:
        validate_source(self.source)

    @property
    def instrument(self) -> Instrument:
        return Instrument(self.source, self.symbol)

    def __str__(self) -> str:
        return f"{self.source}:{self.symbol.ticker}:{self.interval.code}"


_ALWAYS_OPEN = SessionCalendar.always_open()


@dataclass(frozen=True, slots=True)
class OHLCVAggregate:
    """Invariants: every bar is of the series' interval, bars are sorted and unique by time, and each time is a
    bar open of `calendar` (24x7 UTC by default: the UTC grid)."""

    key: SeriesKey
    bars: tuple[OHLCVBar, ...] = field(default=())
    calendar: SessionCalendar = field(default=_ALWAYS_OPEN, compare=False, repr=False)

    def __post_init__(self) -> None:
        previous = -1
        for bar in self.bars:
            if bar.interval is not self.key.interval:
                raise InvalidSeries(
                    f"bar at {bar.time} is {bar.interval.code}, series is {self.key.interval.code}",
                    field="interval",
                )
            if bar.time <= previous:
                raise InvalidSeries(f"bars must be sorted and unique by time (at {bar.time})", field="time")
            previous = bar.time
        wrong = np.flatnonzero(misplaced(self.calendar, self.key.interval, [bar.time for bar in self.bars]))
        if wrong.size:
            raise InvalidSeries(reason(self.calendar, self.key.interval, self.bars[wrong[0]].time), field="time")

    @classmethod
    def from_bars(cls, key: SeriesKey, bars: Iterable[OHLCVBar],
                  calendar: SessionCalendar = _ALWAYS_OPEN) -> "OHLCVAggregate":
        """Build from unordered bars; for a repeated time the last one given wins."""
        by_time = {bar.time: bar for bar in bars}
        return cls(key, tuple(by_time[t] for t in sorted(by_time)), calendar)

    @classmethod
    def fitting(cls, key: SeriesKey, bars: Iterable[OHLCVBar],
                calendar: SessionCalendar) -> tuple["OHLCVAggregate", tuple[Rejection, ...]]:
        """The bars at bar opens of `calendar` (unordered in; the last one given wins per time), and a rejection
        for each of the others. Bars of another interval still raise InvalidSeries."""
        by_time = {bar.time: bar for bar in bars}
        times = np.fromiter(sorted(by_time), np.int64, len(by_time))
        refused = rejections(calendar, key.interval, times)
        if refused:
            for rejection in refused:
                del by_time[rejection.time]
            times = np.fromiter(sorted(by_time), np.int64, len(by_time))
        return cls(key, tuple(by_time[int(t)] for t in times), calendar), refused

    def merge(self, newer: "OHLCVAggregate") -> "OHLCVAggregate":
        """Bars of `newer` replace bars of equal time; the rest of both are kept."""
        if newer.key != self.key:
            raise InvalidSeries(f"cannot merge {newer.key} into {self.key}", field="symbol")
        return OHLCVAggregate.from_bars(self.key, (*self.bars, *newer.bars), self.calendar)

    @property
    def first(self) -> OHLCVBar | None:
        return self.bars[0] if self.bars else None

    @property
    def last(self) -> OHLCVBar | None:
        return self.bars[-1] if self.bars else None

    def __len__(self) -> int:
        return len(self.bars)


def runs(times: Sequence[int], interval: Interval) -> list[tuple[int, int]]:
    """Sorted, unique bar times as stretches of consecutive bars, each as its (first, last) open time."""
    found: list[tuple[int, int]] = []
    for t in times:
        if found and t - found[-1][1] <= _step(interval):
            found[-1] = (found[-1][0], t)
        else:
            found.append((t, t))
    return found


def gaps_between(stretches: Iterable[tuple[int, int]], interval: Interval) -> list[tuple[int, int]]:
    """The missing bars between sorted stretches of consecutive intraday bars, as inclusive (first, last)
    open times; nothing for daily and longer intervals, whose calendar has closed days."""
    if not interval.is_intraday:
        return []
    step = interval.seconds
    return [(a + step, b - step) for (_, a), (b, _) in itertools.pairwise(stretches) if b - a > step]


def gaps(times: Sequence[int], interval: Interval) -> list[tuple[int, int]]:
    return gaps_between(runs(times, interval), interval)


def _step(interval: Interval) -> int:
    return interval.seconds or 31 * 86_400
