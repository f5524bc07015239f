"""Incremental indicators: one closed bar in, the latest values out, in constant work per bar.

Each class follows TA-Lib's C algorithm step by step: same seeds, same order of floating-point operations,
same tests for zero (exact zero in RSI and ADX; in STOCH a range under 2e-14 of the price, as TA-Lib 0.6
does). Fed from the first bar of a series it reproduces `talib`'s output; seeded from a later bar it
converges to it within the warm-up (see `warmup`). Values are NaN until they exist.
"""

import math
from collections import deque
from typing import Protocol

from src.domain.indicators.columns import BarPoint

NAN = math.nan
HIGH, LOW, CLOSE, VOLUME = 2, 3, 4, 5  # positions in BarPoint
FLAT_RANGE = 2e-14  # TA-Lib's STOCH takes a high-low range below this fraction of the price as no range


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
