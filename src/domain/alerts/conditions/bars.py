"""Conditions on closed bars and their indicators; each needs the rule's interval.

Indicator values are inputs (see `indicators` for their names); NaN means "not available yet": the bar
is seen, no side is learnt, nothing fires. Crossings compare the bar's close with the indicator.

* `volume_spike` {multiplier, period=20}: the bar's volume >= multiplier x volume SMA(period) and > 0.
  State edge: fires on the first spike bar of a run, re-arms on a bar that is not a spike.
* `rsi_above` / `rsi_below` {level, period=14}: RSI strictly above (below) the level; state edges.
* `macd_crosses_signal` {fast=12, slow=26, signal=9, direction=either}: the MACD line crosses its signal.
* `price_crosses_bollinger` {band: upper | lower, period=20, stddev=2}: the close crosses the upper band
  upwards, or the lower band downwards.
* `price_crosses_ma` {average: sma | ema, period, direction=either}: the close crosses the average.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Self

from src.domain.alerts.conditions.base import (
    BarCondition,
    Direction,
    Edge,
    Reading,
    Side,
    check_finite,
    check_period,
    indicator_value,
    side_of,
)
from src.domain.alerts.conditions.fields import ConditionFields
from src.domain.alerts.conditions.indicators import output_name, spec
from src.domain.alerts.errors import InvalidCondition, UnknownIndicator
from src.domain.market_data.bar import OHLCVBar


def _check_positive(value: float, field: str) -> None:
    check_finite(value, field)
    if value <= 0:
        raise InvalidCondition(f"{field} must be > 0, got {value!r}", field=f"condition.{field}")


def _close_against(bar: OHLCVBar, values: Mapping[str, float], name: str) -> Reading | None:
    level = indicator_value(values, name)
    if level is None:
        return None
    return Reading(side_of(bar.close, level), {"close": bar.close, name: level})


@dataclass(frozen=True, slots=True)
class VolumeSpike(BarCondition):
    multiplier: float
    period: int = 20
    kind: ClassVar[str] = "volume_spike"

    def __post_init__(self) -> None:
        _check_positive(self.multiplier, "multiplier")
        check_period(self.period, "period")

    @property
    def edge(self) -> Edge:
        return Edge.BECOMES_ABOVE  # "above": the bar is a spike

    @property
    def indicators(self) -> tuple[str, ...]:
        return (spec("volume_sma", self.period),)

    def read_bar(self, bar: OHLCVBar, indicator_values: Mapping[str, float]) -> Reading | None:
        name = output_name(self.indicators[0])
        average = indicator_value(indicator_values, name)
        if average is None:
            return None
        spike = bar.volume > 0 and bar.volume >= self.multiplier * average
        values = {"volume": bar.volume, name: average, "multiplier": self.multiplier}
        return Reading(Side.ABOVE if spike else Side.BELOW, values)

    def params(self) -> dict[str, object]:
        return {"multiplier": self.multiplier, "period": self.period}

    @classmethod
    def from_fields(cls, fields: ConditionFields) -> Self:
        return cls(fields.number("multiplier"), fields.integer("period", 20))


@dataclass(frozen=True, slots=True)
class RsiLevel(BarCondition):
    level: float
    period: int = 14

    def __post_init__(self) -> None:
        check_finite(self.level, "level")
        if not 0 <= self.level <= 100:
            raise InvalidCondition(f"an RSI level is in [0, 100], got {self.level!r}", field="condition.level")
        check_period(self.period, "period")

    @property
    def indicators(self) -> tuple[str, ...]:
        return (spec("rsi", self.period),)

    def read_bar(self, bar: OHLCVBar, indicator_values: Mapping[str, float]) -> Reading | None:
        name = output_name(self.indicators[0])
        rsi = indicator_value(indicator_values, name)
        if rsi is None:
            return None
        return Reading(side_of(rsi, self.level), {name: rsi, "level": self.level, "close": bar.close})

    def params(self) -> dict[str, object]:
        return {"level": self.level, "period": self.period}

    @classmethod
    def from_fields(cls, fields: ConditionFields) -> Self:
        return cls(fields.number("level"), fields.integer("period", 14))


@dataclass(frozen=True, slots=True)
class RsiAbove(RsiLevel):
    kind: ClassVar[str] = "rsi_above"

    @property
    def edge(self) -> Edge:
        return Edge.BECOMES_ABOVE


@dataclass(frozen=True, slots=True)
class RsiBelow(RsiLevel):
    kind: ClassVar[str] = "rsi_below"

    @property
    def edge(self) -> Edge:
        return Edge.BECOMES_BELOW


@dataclass(frozen=True, slots=True)
class MacdCrossesSignal(BarCondition):
    fast: int = 12
    slow: int = 26
    signal: int = 9
    direction: Direction = Direction.EITHER
    kind: ClassVar[str] = "macd_crosses_signal"

    def __post_init__(self) -> None:
        check_period(self.fast, "fast")
        check_period(self.slow, "slow")
        check_period(self.signal, "signal", minimum=1)
        if self.fast >= self.slow:
            raise InvalidCondition("fast must be shorter than slow", field="condition.fast")

    @property
    def edge(self) -> Edge:
        return self.direction.edge

    @property
    def indicators(self) -> tuple[str, ...]:
        return (spec("macd", self.fast, self.slow, self.signal),)

    def read_bar(self, bar: OHLCVBar, indicator_values: Mapping[str, float]) -> Reading | None:
        line_name, signal_name = output_name(self.indicators[0]), output_name(self.indicators[0], "signal")
        line = indicator_value(indicator_values, line_name)
        signal = indicator_value(indicator_values, signal_name)
        if line is None or signal is None:
            return None
        return Reading(side_of(line, signal), {line_name: line, signal_name: signal, "close": bar.close})

    def params(self) -> dict[str, object]:
        return {"fast": self.fast, "slow": self.slow, "signal": self.signal, "direction": str(self.direction)}

    @classmethod
    def from_fields(cls, fields: ConditionFields) -> Self:
        periods = (fields.integer("fast", 12), fields.integer("slow", 26), fields.integer("signal", 9))
        return cls(*periods, direction=fields.choice("direction", Direction, Direction.EITHER))


class BollingerBand(StrEnum):
    UPPER = "upper"  # crossed upwards
    LOWER = "lower"  # crossed downwards


@dataclass(frozen=True, slots=True)
class PriceCrossesBollinger(BarCondition):
    band: BollingerBand
    period: int = 20
    stddev: float = 2.0
    kind: ClassVar[str] = "price_crosses_bollinger"

    def __post_init__(self) -> None:
        if not isinstance(self.band, BollingerBand):
            raise InvalidCondition("band must be upper or lower", field="condition.band")
        check_period(self.period, "period")
        _check_positive(self.stddev, "stddev")

    @property
    def edge(self) -> Edge:
        return Edge.CROSSES_UP if self.band is BollingerBand.UPPER else Edge.CROSSES_DOWN

    @property
    def indicators(self) -> tuple[str, ...]:
        return (spec("bb", self.period, self.stddev),)

    def read_bar(self, bar: OHLCVBar, indicator_values: Mapping[str, float]) -> Reading | None:
        return _close_against(bar, indicator_values, output_name(self.indicators[0], str(self.band)))

    def params(self) -> dict[str, object]:
        return {"band": str(self.band), "period": self.period, "stddev": self.stddev}

    @classmethod
    def from_fields(cls, fields: ConditionFields) -> Self:
        band = fields.choice("band", BollingerBand)
        return cls(band, fields.integer("period", 20), fields.number("stddev", 2.0))


class MovingAverage(StrEnum):
    SMA = "sma"
    EMA = "ema"


@dataclass(frozen=True, slots=True)
class PriceCrossesMovingAverage(BarCondition):
    average: MovingAverage
    period: int
    direction: Direction = Direction.EITHER
    kind: ClassVar[str] = "price_crosses_ma"

    def __post_init__(self) -> None:
        if not isinstance(self.average, MovingAverage):
            raise UnknownIndicator(f"unknown moving average {self.average!r}", field="condition.average")
        check_period(self.period, "period")

    @property
    def edge(self) -> Edge:
        return self.direction.edge

    @property
    def indicators(self) -> tuple[str, ...]:
        return (spec(str(self.average), self.period),)

    def read_bar(self, bar: OHLCVBar, indicator_values: Mapping[str, float]) -> Reading | None:
        return _close_against(bar, indicator_values, output_name(self.indicators[0]))

    def params(self) -> dict[str, object]:
        return {"average": str(self.average), "period": self.period, "direction": str(self.direction)}

    @classmethod
    def from_fields(cls, fields: ConditionFields) -> Self:
        average = fields.choice("average", MovingAverage, error=UnknownIndicator)
        return cls(average, fields.integer("period"), fields.choice("direction", Direction, Direction.EITHER))
