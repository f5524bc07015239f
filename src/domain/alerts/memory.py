"""What a rule remembers between evaluations: a plain value, persisted with the rule.

Restoring it after a restart makes the next evaluation continue where the last one stopped: the last
side seen decides whether the next observation is a crossing (so a crossing seen before the restart
does not fire again, and one that happened while down fires once), `observed_at` drops anything older
than what was already evaluated (ticks before it, bars closing at or before it), and the percent-change
window keeps its reference prices."""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from src.domain.alerts.conditions import Side, Window
from src.domain.alerts.errors import InvalidAlertRule


@dataclass(frozen=True, slots=True)
class AlertMemory:
    side: Side = Side.UNKNOWN  # the last side observed (a touch leaves it unchanged)
    observed_at: float | None = None  # market time of the last evaluated tick / bar close
    trigger_count: int = 0
    last_triggered_at: float | None = None
    cooldown_until: float | None = None  # set exactly while the rule is cooling down
    window: Window = ()  # percent-change buckets; empty for other conditions

    # Built field by field rather than with `dataclasses.replace`: these run for every evaluation.

    def observed(self, side: Side, at: float, window: Window) -> "AlertMemory":
        return AlertMemory(side, at, self.trigger_count, self.last_triggered_at, self.cooldown_until, window)

    def triggered(self, at: float, cooldown_until: float | None) -> "AlertMemory":
        return AlertMemory(self.side, self.observed_at, self.trigger_count + 1, at, cooldown_until, self.window)

    def cooled_down(self) -> "AlertMemory":
        return AlertMemory(self.side, self.observed_at, self.trigger_count, self.last_triggered_at, None, self.window)

    def forgetting_observations(self) -> "AlertMemory":
        """Counters kept, what was seen forgotten: for a rule that watches something new or restarts."""
        return replace(self, side=Side.UNKNOWN, observed_at=None, window=())

    def to_dict(self) -> dict[str, object]:
        return {
            "side": str(self.side),
            "observed_at": self.observed_at,
            "trigger_count": self.trigger_count,
            "last_triggered_at": self.last_triggered_at,
            "cooldown_until": self.cooldown_until,
            "window": [list(bucket) for bucket in self.window],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> "AlertMemory":
        count = data.get("trigger_count", 0)
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise InvalidAlertRule("trigger_count must be an integer >= 0", field="memory.trigger_count")
        return cls(
            side=_side(data.get("side", "unknown")),
            observed_at=_optional_time(data, "observed_at"),
            trigger_count=count,
            last_triggered_at=_optional_time(data, "last_triggered_at"),
            cooldown_until=_optional_time(data, "cooldown_until"),
            window=_window(data.get("window", ())),
        )


def _side(value: object) -> Side:
    if isinstance(value, str) and value in Side:
        return Side(value)
    raise InvalidAlertRule(f"unknown side {value!r}", field="memory.side")


def _optional_time(data: Mapping[str, object], name: str) -> float | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidAlertRule(f"{name} must be epoch seconds or null", field=f"memory.{name}")
    return float(value)


def _window(value: object) -> Window:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise InvalidAlertRule("window must be a list of [bucket, low, high]", field="memory.window")
    return tuple(_bucket(item) for item in value)


def _bucket(item: object) -> tuple[int, float, float]:
    if isinstance(item, Sequence) and len(item) == 3:
        index, low, high = item
        if isinstance(index, int) and all(isinstance(v, int | float) for v in (low, high)):
            return index, float(low), float(high)
    raise InvalidAlertRule(f"bad window bucket {item!r}", field="memory.window")
