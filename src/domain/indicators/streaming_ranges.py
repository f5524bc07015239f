"""Incremental indicators of the bar's range: Stochastic, ATR and ADX (see `streaming` for the approach)."""

import math
from collections import deque

from src.domain.indicators.columns import BarPoint
from src.domain.indicators.streaming import NAN, WindowTotal

FLAT_RANGE = 2e-14  # TA-Lib's STOCH takes a high-low range below this fraction of the price as no range


class Stochastic:
    """TA-Lib's STOCH with SMA smoothing: fast %K over `fastk` bars, slow %K its SMA, %D the SMA of slow %K."""

    __slots__ = ("d_period", "fastk", "highs", "k_period", "lows", "slow_d", "slow_k")

    def __init__(self, fastk: int, slowk: int, slowd: int) -> None:
        self.fastk = fastk
        self.highs: deque[float] = deque(maxlen=fastk)
        self.lows: deque[float] = deque(maxlen=fastk)
        self.k_period, self.d_period = slowk, slowd
        self.slow_k, self.slow_d = WindowTotal(slowk), WindowTotal(slowd)

    def update(self, bar: BarPoint) -> tuple[float, ...]:
        highs, lows = self.highs, self.lows
        highs.append(bar.high)
        lows.append(bar.low)
        if len(highs) < self.fastk:
            return (NAN, NAN)
        highest, lowest = max(highs), min(lows)
        flat = highest - lowest <= FLAT_RANGE * max(abs(highest), abs(lowest))
        fast_k = 0.0 if flat else (bar.close - lowest) / (highest - lowest) * 100.0
        slow_k = self.slow_k.push(fast_k) / self.k_period
        if math.isnan(slow_k):
            return (NAN, NAN)
        slow_d = self.slow_d.push(slow_k) / self.d_period
        return (NAN, NAN) if math.isnan(slow_d) else (slow_k, slow_d)


def true_range(high: float, low: float, previous_close: float) -> float:
    return max(high - low, abs(high - previous_close), abs(low - previous_close))


class Atr:
    """TA-Lib's ATR: mean of the first `period` true ranges (from the second bar), then Wilder smoothing."""

    __slots__ = ("average", "count", "period", "previous_close")

    def __init__(self, period: int) -> None:
        self.period = period
        self.count = -1  # the first bar has no true range
        self.average = self.previous_close = 0.0

    def update(self, bar: BarPoint) -> tuple[float, ...]:
        tr = true_range(bar.high, bar.low, self.previous_close)
        self.previous_close = bar.close
        self.count += 1
        if self.count == 0:
            return (NAN,)
        if self.count > self.period:
            self.average = (self.average * (self.period - 1) + tr) / self.period
            return (self.average,)
        self.average += tr
        if self.count < self.period:
            return (NAN,)
        self.average /= self.period
        return (self.average,)


class Adx:
    """TA-Lib's ADX: +DM, -DM and TR summed over bars 1..period-1, then Wilder-smoothed; DX from the
    directional indicators; the first ADX (bar 2*period-1) is the mean of the first `period` DX values."""

    __slots__ = ("adx", "count", "dx_total", "minus_dm", "period", "plus_dm", "previous", "tr")

    def __init__(self, period: int) -> None:
        self.period = period
        self.count = -1
        self.previous = (0.0, 0.0, 0.0)  # high, low, close
        self.plus_dm = self.minus_dm = self.tr = self.dx_total = self.adx = 0.0

    def update(self, bar: BarPoint) -> tuple[float, ...]:
        high, low, close = bar.high, bar.low, bar.close
        previous_high, previous_low, previous_close = self.previous
        self.previous = (high, low, close)
        self.count += 1
        if self.count == 0:
            return (NAN,)
        self._move(high - previous_high, previous_low - low, true_range(high, low, previous_close))
        if self.count < self.period:
            return (NAN,)
        dx = self._dx()
        if self.count < 2 * self.period:
            self.dx_total += 0.0 if math.isnan(dx) else dx
            if self.count < 2 * self.period - 1:
                return (NAN,)
            self.adx = self.dx_total / self.period
        elif not math.isnan(dx):
            self.adx = (self.adx * (self.period - 1) + dx) / self.period
        return (self.adx,)

    def _move(self, up: float, down: float, tr: float) -> None:
        period = self.period
        smoothing = self.count >= period
        if smoothing:
            self.minus_dm -= self.minus_dm / period
            self.plus_dm -= self.plus_dm / period
        if down > 0 and up < down:
            self.minus_dm += down
        elif up > 0 and up > down:
            self.plus_dm += up
        self.tr = self.tr - self.tr / period + tr if smoothing else self.tr + tr

    def _dx(self) -> float:
        if self.tr == 0.0:
            return NAN
        minus_di = 100.0 * (self.minus_dm / self.tr)
        plus_di = 100.0 * (self.plus_dm / self.tr)
        total = minus_di + plus_di
        return NAN if total == 0.0 else 100.0 * (abs(minus_di - plus_di) / total)
