"""PocketQuant's 13 intervals in Binance's vocabulary: eleven are Binance kline intervals; 45m and 3h are not,
and are built from 15m and 1h klines (composite bars, `src/domain/market_data/composite.py`)."""

from dataclasses import dataclass

from src.domain.market_data import Interval


@dataclass(frozen=True, slots=True)
class KlinePlan:
    interval: Interval  # the interval asked for
    native: Interval  # the interval fetched from Binance
    code: str  # Binance's name of `native`

    @property
    def composite(self) -> bool:
        return self.native is not self.interval


_NATIVE = {Interval.M1: "1m", Interval.M3: "3m", Interval.M5: "5m", Interval.M15: "15m", Interval.M30: "30m",
           Interval.H1: "1h", Interval.H2: "2h", Interval.H4: "4h", Interval.D1: "1d", Interval.W1: "1w",
           Interval.MN1: "1M"}
_BUILT_FROM = {Interval.M45: Interval.M15, Interval.H3: Interval.H1}


def plan(interval: Interval) -> KlinePlan:
    native = _BUILT_FROM.get(interval, interval)
    return KlinePlan(interval, native, _NATIVE[native])
