"""Alert conditions: what a rule watches, parsed from and serialized to plain dicts.

`parse_condition({"kind": "price_crosses", "level": 100.0, "direction": "up"})` builds one;
`condition.to_dict()` gives the dict back (enums as strings, defaults filled in)."""

from collections.abc import Mapping

from src.domain.alerts.conditions.bars import (
    BollingerBand,
    MacdCrossesSignal,
    MovingAverage,
    PriceCrossesBollinger,
    PriceCrossesMovingAverage,
    RsiAbove,
    RsiBelow,
    VolumeSpike,
)
from src.domain.alerts.conditions.base import (
    BarCondition,
    Condition,
    Direction,
    Edge,
    EvaluatedOn,
    Reading,
    Side,
    TickCondition,
    Window,
)
from src.domain.alerts.conditions.fields import ConditionFields
from src.domain.alerts.conditions.indicators import output_name
from src.domain.alerts.conditions.price import (
    WINDOW_BUCKETS,
    PercentChange,
    PriceAbove,
    PriceBelow,
    PriceCrosses,
    PriceLevel,
)
from src.domain.alerts.errors import InvalidCondition

_TYPES: tuple[type[Condition], ...] = (
    PriceAbove, PriceBelow, PriceCrosses, PercentChange,
    VolumeSpike, RsiAbove, RsiBelow, MacdCrossesSignal, PriceCrossesBollinger, PriceCrossesMovingAverage,
)
CONDITION_TYPES: dict[str, type[Condition]] = {cls.kind: cls for cls in _TYPES}


def parse_condition(data: Mapping[str, object]) -> Condition:
    if not isinstance(data, Mapping):
        raise InvalidCondition("a condition is an object with a kind", field="condition")
    kind = data.get("kind")
    condition_type = CONDITION_TYPES.get(kind) if isinstance(kind, str) else None
    if condition_type is None:
        valid = ", ".join(CONDITION_TYPES)
        raise InvalidCondition(f"unknown condition kind {kind!r}; expected one of {valid}", field="condition.kind")
    fields = ConditionFields(data)
    condition = condition_type.from_fields(fields)
    fields.check_no_others()
    return condition


__all__ = [
    "CONDITION_TYPES", "WINDOW_BUCKETS", "BarCondition", "BollingerBand", "Condition", "Direction", "Edge",
    "EvaluatedOn", "MacdCrossesSignal", "MovingAverage", "PercentChange", "PriceAbove", "PriceBelow",
    "PriceCrosses", "PriceCrossesBollinger", "PriceCrossesMovingAverage", "PriceLevel", "Reading", "RsiAbove",
    "RsiBelow", "Side", "TickCondition", "VolumeSpike", "Window", "output_name", "parse_condition",
]
