"""What every alert condition shares: sides, edges, readings, and the two evaluation paths.

Each observation classifies a value against a level: the *side* is `above` (value > level) or `below`
(value < level). A *touch* (value == level exactly) carries no side: the side stays what it was, so a
touch is never a crossing and never re-arms. A condition fires on a change of side named by its `Edge`:

* state edges (`becomes_above` / `becomes_below`: price above/below, RSI above/below, volume spike,
  percent change) fire when the side becomes the wanted one from anything else, including `unknown`
  (the first observation after creation or enabling): "tell me when X is above L" is answered at once
  if X already is. They re-arm only once the other side has been observed.
* crossing edges (`crosses_up` / `crosses_down` / `crosses_either`) fire only on a witnessed change
  between `below` and `above`; the first observation only learns the side.
"""

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import ClassVar, Self

from src.domain.alerts.conditions.fields import ConditionFields
from src.domain.alerts.errors import InvalidCondition, MissingIndicatorValue
from src.domain.market_data.bar import OHLCVBar


class Side(StrEnum):
    UNKNOWN = "unknown"
    ABOVE = "above"
    BELOW = "below"


_U, _A, _B = Side.UNKNOWN, Side.ABOVE, Side.BELOW


class Edge(Enum):
    """Which (previous side, new side) changes fire."""

    BECOMES_ABOVE = frozenset({(_U, _A), (_B, _A)})
    BECOMES_BELOW = frozenset({(_U, _B), (_A, _B)})
    CROSSES_UP = frozenset({(_B, _A)})
    CROSSES_DOWN = frozenset({(_A, _B)})
    CROSSES_EITHER = frozenset({(_B, _A), (_A, _B)})

    def fires(self, previous: Side, current: Side) -> bool:
        return (previous, current) in self.value


class Direction(StrEnum):
    UP = "up"
    DOWN = "down"
    EITHER = "either"

    @property
    def edge(self) -> Edge:
        return _CROSSING_EDGES[self]


_CROSSING_EDGES = {
    Direction.UP: Edge.CROSSES_UP, Direction.DOWN: Edge.CROSSES_DOWN, Direction.EITHER: Edge.CROSSES_EITHER,
}


class EvaluatedOn(StrEnum):
    TICK = "tick"
    BAR_CLOSE = "bar_close"


# Percent-change memory: (bucket index, lowest price, highest price), oldest bucket first.
type Bucket = tuple[int, float, float]
type Window = tuple[Bucket, ...]


@dataclass(frozen=True, slots=True)
class Reading:
    """One observation: the side it shows (None for a touch) and the values that explain it."""

    side: Side | None
    values: Mapping[str, float]


def side_of(value: float, level: float) -> Side | None:
    if value > level:
        return Side.ABOVE
    if value < level:
        return Side.BELOW
    return None


class Condition(ABC):
    """Base of every condition: a frozen dataclass with a `kind`, a dict form and an edge."""

    __slots__ = ()
    kind: ClassVar[str]
    evaluated_on: ClassVar[EvaluatedOn]

    @property
    @abstractmethod
    def edge(self) -> Edge: ...

    @property
    def indicators(self) -> tuple[str, ...]:
        """Indicator specs (`rsi:14`, `macd:12:26:9`...) whose values evaluation needs; none by default."""
        return ()

    @abstractmethod
    def params(self) -> dict[str, object]:
        """The condition's fields as plain values (enums as their strings), without `kind`."""

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, **self.params()}

    @classmethod
    @abstractmethod
    def from_fields(cls, fields: ConditionFields) -> Self:
        """Build from a dict being read (the inverse of `params`)."""


class TickCondition(Condition):
    """Evaluated on every price tick of its symbol (and on the path of backfilled bars)."""

    __slots__ = ()
    evaluated_on: ClassVar[EvaluatedOn] = EvaluatedOn.TICK

    @abstractmethod
    def read_tick(self, price: float, at: float, window: Window) -> tuple[Reading, Window]: ...


class BarCondition(Condition):
    """Evaluated once per closed bar of its interval, with indicator values computed by the caller."""

    __slots__ = ()
    evaluated_on: ClassVar[EvaluatedOn] = EvaluatedOn.BAR_CLOSE

    @abstractmethod
    def read_bar(self, bar: OHLCVBar, indicator_values: Mapping[str, float]) -> Reading | None:
        """None when an input is not available yet (NaN): the bar is seen but shows no side."""


def indicator_value(values: Mapping[str, float], name: str) -> float | None:
    """The named output, or None when it is NaN or infinite (not available yet)."""
    if name not in values:
        raise MissingIndicatorValue(f"no value given for indicator output {name!r}", field=name)
    value = values[name]
    return value if math.isfinite(value) else None


def number_text(value: float) -> str:
    """A parameter as it appears in specs and output names: 2.0 -> "2", 2.5 -> "2.5"."""
    return f"{value:g}"


def check_finite(value: float, field: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidCondition(f"{field} must be a finite number, got {value!r}", field=f"condition.{field}")


def check_period(value: int, field: str, minimum: int = 2) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= 100_000:
        raise InvalidCondition(
            f"{field} must be an integer in [{minimum}, 100000], got {value!r}", field=f"condition.{field}"
        )
