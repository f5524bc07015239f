"""The bars of one series (source, exchange, symbol, interval): sorted, unique by time, aligned."""

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from src.domain.errors import InvalidSeries
from src.domain.market_data.bar import OHLCVBar
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


@dataclass(frozen=True, slots=True)
class OHLCVAggregate:
    key: SeriesKey
    bars: tuple[OHLCVBar, ...] = field(default=())

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

    @classmethod
    def from_bars(cls, key: SeriesKey, bars: Iterable[OHLCVBar]) -> "OHLCVAggregate":
        """Build from unordered bars; for a repeated time the last one given wins."""
        by_time = {bar.time: bar for bar in bars}
        return cls(key, tuple(by_time[t] for t in sorted(by_time)))

    def merge(self, newer: "OHLCVAggregate") -> "OHLCVAggregate":
        """Bars of `newer` replace bars of equal time; the rest of both are kept."""
        if newer.key != self.key:
            raise InvalidSeries(f"cannot merge {newer.key} into {self.key}", field="symbol")
        return OHLCVAggregate.from_bars(self.key, (*self.bars, *newer.bars))

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
