"""Incremental indicators: one closed bar in, the latest values out, in constant work per bar.

Each class follows TA-Lib's C algorithm step by step: same seeds, same smoothing, same first bar, same
tests for zero (exact zero in RSI and ADX; in STOCH a range under 2e-14 of the price, as TA-Lib 0.6 does).
Fed from the first bar of a series it reproduces `talib`'s output to rounding (bit for bit for most; RSI
and ATR differ in the last digits, as the C library evaluates the smoothing differently; Bollinger's
stddev within ~1e-11 relative, see `WindowVariance`); seeded from a later bar it converges to it within
the warm-up (see `warmup`). Values are NaN until they exist.
"""

import math
from collections import deque
from typing import Protocol

from src.domain.indicators.columns import BarPoint

NAN = math.nan
HIGH, LOW, CLOSE, VOLUME = 2, 3, 4, 5  # positions in BarPoint


class StreamingIndicator(Protocol):
    def update(self, bar: BarPoint) -> tuple[float, ...]: ...


class WindowTotal:
    """TA-Lib's moving total: add the newest value, read the total, then subtract the value leaving."""

    __slots__ = ("period", "total", "values")

    def __init__(self, period: int) -> None:
        self.period = period
        self.total = 0.0
        self.values: deque[float] = deque()

    def push(self, value: float) -> float:
        """The total of the last `period` values, or NaN while fewer were pushed."""
        values = self.values
        values.append(value)
        self.total += value
        if len(values) < self.period:
            return NAN
        total = self.total
        self.total -= values.popleft()
        return total


class Ema:
    """TA-Lib's EMA: seeded with the mean of the first `period` values, then smoothed by k = 2 / (period + 1)."""

    __slots__ = ("count", "k", "period", "value")

    def __init__(self, period: int) -> None:
        self.period = period
        self.k = 2.0 / (period + 1)
        self.count = 0
        self.value = 0.0

    def push(self, x: float) -> float:
        if self.count >= self.period:
            self.value = (x - self.value) * self.k + self.value
            return self.value
        self.count += 1
        self.value += x
        if self.count < self.period:
            return NAN
        self.value /= self.period
        return self.value


class SmaIndicator:
    __slots__ = ("field", "period", "window")

    def __init__(self, period: int, field: int = CLOSE) -> None:
        self.period = period
        self.field = field
        self.window = WindowTotal(period)

    def update(self, bar: BarPoint) -> tuple[float, ...]:
        return (self.window.push(bar[self.field]) / self.period,)


class EmaIndicator:
    __slots__ = ("ema",)

    def __init__(self, period: int) -> None:
        self.ema = Ema(period)

    def update(self, bar: BarPoint) -> tuple[float, ...]:
        return (self.ema.push(bar.close),)


class Rsi:
    """Wilder's RSI: mean gain and loss of the first `period` changes, then Wilder smoothing."""

    __slots__ = ("changes", "gain", "loss", "period", "previous")

    def __init__(self, period: int) -> None:
        self.period = period
        self.changes = -1  # the first bar brings no change
        self.previous = self.gain = self.loss = 0.0

    def update(self, bar: BarPoint) -> tuple[float, ...]:
        change = bar.close - self.previous
        self.previous = bar.close
        self.changes += 1
        if self.changes == 0:
            return (NAN,)
        if self.changes > self.period:
            self.gain *= self.period - 1
            self.loss *= self.period - 1
        if change < 0:
            self.loss -= change
        else:
            self.gain += change
        if self.changes < self.period:
            return (NAN,)
        self.gain /= self.period
        self.loss /= self.period
        total = self.gain + self.loss
        return (0.0 if total == 0.0 else 100.0 * (self.gain / total),)


class Macd:
    """TA-Lib's MACD: the fast EMA is seeded on the `fast` bars ending where the slow EMA's seed ends."""

    __slots__ = ("fast", "signal", "skip", "slow")

    def __init__(self, fast: int, slow: int, signal: int) -> None:
        self.fast, self.slow, self.signal = Ema(fast), Ema(slow), Ema(signal)
        self.skip = slow - fast

    def update(self, bar: BarPoint) -> tuple[float, ...]:
        slow = self.slow.push(bar.close)
        if self.skip:
            self.skip -= 1
            return (NAN, NAN, NAN)
        line = self.fast.push(bar.close) - slow
        if math.isnan(line):
            return (NAN, NAN, NAN)
        signal = self.signal.push(line)
        if math.isnan(signal):
            return (NAN, NAN, NAN)
        return (line, signal, line - signal)


class WindowVariance:
    """Population variance of the last `period` values, in amortised constant work and without drift.

    Keeps running sums of the deviations from a reference value, and every `period` values recomputes them
    from the window with the window's mean as the new reference: the sums never carry rounding for long, and
    since the reference stays near the mean, sum-of-squares minus squared-sum does not cancel catastrophically
    (plain running sums of x and x^2 lose about log10(mean^2 / variance) digits)."""

    __slots__ = ("period", "reference", "since_reset", "squares", "total", "values")

    def __init__(self, period: int) -> None:
        self.period = period
        self.values: deque[float] = deque()
        self.reference = self.total = self.squares = 0.0
        self.since_reset = 0

    def push(self, x: float) -> float:
        """The variance of the last `period` values, or NaN while fewer were pushed."""
        values = self.values
        values.append(x)
        self._add(x - self.reference, 1.0)
        if len(values) > self.period:
            self._add(values.popleft() - self.reference, -1.0)
        self.since_reset += 1
        if self.since_reset >= self.period:
            self._reset()
        if len(values) < self.period:
            return NAN
        mean = self.total / self.period
        return max(self.squares / self.period - mean * mean, 0.0)

    def _add(self, deviation: float, sign: float) -> None:
        self.total += sign * deviation
        self.squares += sign * deviation * deviation

    def _reset(self) -> None:
        values = self.values
        self.reference = sum(values) / len(values)
        deviations = [x - self.reference for x in values]
        self.total = sum(deviations)
        self.squares = sum(d * d for d in deviations)
        self.since_reset = 0


class Bollinger:
    """TA-Lib's BBANDS with an SMA middle: middle +/- deviations * population stddev over `period` closes."""

    __slots__ = ("deviations", "period", "variance", "window")

    def __init__(self, period: int, deviations: float) -> None:
        self.period = period
        self.deviations = deviations
        self.window = WindowTotal(period)
        self.variance = WindowVariance(period)

    def update(self, bar: BarPoint) -> tuple[float, ...]:
        x = bar.close
        middle = self.window.push(x) / self.period
        variance = self.variance.push(x)
        if math.isnan(middle):
            return (NAN, NAN, NAN)
        width = math.sqrt(variance) * self.deviations
        return (middle + width, middle, middle - width)


class Vwap:
    """Volume-weighted typical price (h + l + c) / 3, cumulated from each session's first bar."""

    __slots__ = ("session_id", "traded_value", "volume")

    def __init__(self) -> None:
        self.session_id: int | None = None
        self.traded_value = self.volume = 0.0

    def update(self, bar: BarPoint) -> tuple[float, ...]:
        if bar.session_id != self.session_id:
            self.session_id = bar.session_id
            self.traded_value = self.volume = 0.0
        self.traded_value += (bar.high + bar.low + bar.close) / 3.0 * bar.volume
        self.volume += bar.volume
        return (self.traded_value / self.volume if self.volume > 0 else NAN,)
