"""Conditions on the live price, evaluated on ticks.

* `price_above` / `price_below` {level}: state edges (see `base`): fire when the price is seen strictly
  above (below) the level and was not, including the first observation.
* `price_crosses` {level, direction: up | down | either}: fires on a witnessed crossing.
* `percent_change` {percent, window_s}: with `percent` > 0, fires when the price has risen at least
  `percent` % above the lowest price of the window; with `percent` < 0, when it has fallen at least
  |percent| % below the highest. Reaching the threshold exactly counts. A state edge: it fires once per
  episode and re-arms when the change falls back under the threshold.
  The window is bounded: `WINDOW_BUCKETS` buckets of `window_s / WINDOW_BUCKETS` seconds, aligned to
  the epoch, each keeping the low and high of its ticks. The reference is taken over the current bucket
  and the `WINDOW_BUCKETS - 1` before it: every tick of the last `window_s * 59/60` seconds counts, no tick
  older than `window_s` does. Non-positive reference prices never reach a threshold.
"""

import math
from dataclasses import dataclass
from typing import ClassVar, Self

from src.domain.alerts.conditions.base import (
    Direction,
    Edge,
    Reading,
    Side,
    TickCondition,
    Window,
    check_finite,
    side_of,
)
from src.domain.alerts.conditions.fields import ConditionFields
from src.domain.alerts.errors import InvalidCondition

WINDOW_BUCKETS = 60
MAX_WINDOW_S = 31 * 86_400


@dataclass(frozen=True, slots=True)
class PriceLevel(TickCondition):
    """A condition on the price against a fixed level: the alert book indexes these by level."""

    level: float

    def __post_init__(self) -> None:
        check_finite(self.level, "level")

    def read_tick(self, price: float, at: float, window: Window) -> tuple[Reading, Window]:
        return Reading(side_of(price, self.level), {"price": price, "level": self.level}), window

    def params(self) -> dict[str, object]:
        return {"level": self.level}

    @classmethod
    def from_fields(cls, fields: ConditionFields) -> Self:
        return cls(fields.number("level"))


@dataclass(frozen=True, slots=True)
class PriceAbove(PriceLevel):
    kind: ClassVar[str] = "price_above"

    @property
    def edge(self) -> Edge:
        return Edge.BECOMES_ABOVE


@dataclass(frozen=True, slots=True)
class PriceBelow(PriceLevel):
    kind: ClassVar[str] = "price_below"

    @property
    def edge(self) -> Edge:
        return Edge.BECOMES_BELOW


@dataclass(frozen=True, slots=True)
class PriceCrosses(PriceLevel):
    direction: Direction = Direction.EITHER
    kind: ClassVar[str] = "price_crosses"

    @property
    def edge(self) -> Edge:
        return self.direction.edge

    def params(self) -> dict[str, object]:
        return {"level": self.level, "direction": str(self.direction)}

    @classmethod
    def from_fields(cls, fields: ConditionFields) -> Self:
        return cls(fields.number("level"), fields.choice("direction", Direction, Direction.EITHER))


@dataclass(frozen=True, slots=True)
class PercentChange(TickCondition):
    percent: float  # signed: +5 is a rise of at least 5 %, -5 a fall of at least 5 %
    window_s: int
    kind: ClassVar[str] = "percent_change"

    def __post_init__(self) -> None:
        check_finite(self.percent, "percent")
        if self.percent == 0 or self.percent <= -100:
            raise InvalidCondition("percent must be non-zero and above -100", field="condition.percent")
        window = self.window_s
        if isinstance(window, bool) or not isinstance(window, int) or not 1 <= window <= MAX_WINDOW_S:
            raise InvalidCondition(
                f"window_s must be an integer in [1, {MAX_WINDOW_S}]", field="condition.window_s"
            )

    @property
    def edge(self) -> Edge:
        return Edge.BECOMES_ABOVE  # "above" here means: the threshold is reached

    def read_tick(self, price: float, at: float, window: Window) -> tuple[Reading, Window]:
        window = slide(window, math.floor(at * WINDOW_BUCKETS / self.window_s), price)
        rising = self.percent > 0
        reference = min(b[1] for b in window) if rising else max(b[2] for b in window)
        values = {"price": price, "reference": reference, "percent": self.percent, "window_s": self.window_s}
        if reference <= 0:
            return Reading(Side.BELOW, values), window
        change = (price - reference) * 100
        reached = change >= self.percent * reference if rising else change <= self.percent * reference
        values["change_percent"] = change / reference
        return Reading(Side.ABOVE if reached else Side.BELOW, values), window

    def params(self) -> dict[str, object]:
        return {"percent": self.percent, "window_s": self.window_s}

    @classmethod
    def from_fields(cls, fields: ConditionFields) -> Self:
        return cls(fields.number("percent"), fields.integer("window_s"))


def slide(window: Window, bucket: int, price: float) -> Window:
    """The window after a tick in `bucket`: buckets older than the window dropped, the tick merged in."""
    oldest = bucket - WINDOW_BUCKETS + 1
    if window and window[0][0] < oldest:
        window = tuple(b for b in window if b[0] >= oldest)
    if window and window[-1][0] >= bucket:  # the current bucket (time never goes back: see AlertRule)
        index, low, high = window[-1]
        return (*window[:-1], (index, min(low, price), max(high, price)))
    return (*window, (bucket, price, price))
