"""The bars of one series (exchange, symbol, interval): sorted, unique by time, aligned."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from src.domain.errors import InvalidSeries
from src.domain.market_data.bar import OHLCVBar
from src.domain.market_data.interval import Interval
from src.domain.market_data.symbol import Symbol


@dataclass(frozen=True, slots=True)
class SeriesKey:
    symbol: Symbol
    interval: Interval

    def __str__(self) -> str:
        return f"{self.symbol.ticker}:{self.interval.code}"


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

    def missing_times(self, start: int, end: int) -> list[int]:
        """Aligned intraday bar times in [start, end] that are absent: the gaps of this series."""
        interval = self.key.interval
        if not interval.is_intraday:
            return []
        present = {bar.time for bar in self.bars}
        first = interval.align(start)
        if first < start:
            first += interval.seconds
        return [t for t in range(first, end + 1, interval.seconds) if t not in present]
