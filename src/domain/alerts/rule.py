"""An alert rule: what to watch, when to fire, where to deliver, and what it remembers.

Rules of evaluation (each has a test named for it):

* **Edges.** A rule fires when its condition's side changes as its `Edge` says (see
  `conditions.base`): a crossing fires once, not on every tick beyond the level. A touch (exactly at
  the level) keeps the previous side. State conditions (above/below, RSI above/below, volume spike,
  percent change) fire on the first observation when already true; crossings need a witnessed crossing.
* **Only armed rules fire.** A rule cooling down is still evaluated: its side is tracked, so after the
  cooldown it needs a fresh crossing; a crossing during the cooldown is not fired later.
* **Time** is the market time of the observation (`Moment.at`): the tick's time, a bar's close time.
  Before observing, the rule expires if `at >= expires_at` (no fire, `AlertExpiredEvent`) and leaves its
  cooldown if `at >= cooldown_until`. `advance(now)` applies the same two rules without an observation.
* **Firing** passes through `triggered` and rests in `done` (one-time), `cooling_down` until
  `at + cooldown_s` (cooldown_s > 0) or `armed`; it returns one `AlertTriggeredEvent`.
* **Order.** A tick older than the last observation, or a bar closing at or before it, is ignored:
  re-delivering a bar or replaying history already evaluated never fires twice.
* Every evaluation returns an `AlertChange(rule, events)`; `rule is self` when nothing changed.
"""

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, NamedTuple

from src.domain.alerts.conditions import BarCondition, Condition, Reading, TickCondition, Window
from src.domain.alerts.errors import InvalidAlertRule, InvalidCondition
from src.domain.alerts.events import AlertExpiredEvent, AlertTriggeredEvent
from src.domain.alerts.memory import AlertMemory
from src.domain.alerts.moment import Moment
from src.domain.alerts.status import ACTIVE, AlertStatus, check_transition
from src.domain.events import DomainEvent
from src.domain.market_data.bar import OHLCVBar
from src.domain.market_data.interval import Interval
from src.domain.market_data.symbol import Symbol

CHANNELS = ("webhook", "websocket", "log")
MAX_NOTE_LENGTH = 1000
_SOURCE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
# Changing one of these makes the rule watch something else: what it had seen is forgotten.
_WATCHED = ("source", "symbol", "interval", "condition")
_NOT_REVISABLE = frozenset({"id", "owner", "status", "memory"})
_set = object.__setattr__


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertRule:
    id: str
    owner: str  # user id
    source: str  # provider id: "tradingview", "binance", "yahoo"
    symbol: Symbol
    condition: Condition
    interval: Interval | None = None  # required by bar conditions, refused by tick conditions
    cooldown_s: float = 0.0
    one_time: bool = False
    expires_at: float | None = None  # epoch seconds
    channels: tuple[str, ...] = ("log",)
    note: str = ""
    status: AlertStatus = AlertStatus.ARMED
    memory: AlertMemory = field(default_factory=AlertMemory)

    def __post_init__(self) -> None:
        _check_identity(self)
        _check_condition(self)
        _check_timing(self)
        _check_delivery(self)
        _check_state(self)

    # -- lifecycle ------------------------------------------------------------------------------------

    @property
    def is_active(self) -> bool:
        """Evaluated (and indexed by the alert book): armed or cooling down."""
        return self.status in ACTIVE

    def check_not_expired(self, now: float) -> None:
        """Refuse a rule whose expiry is already past, when it is created or enabled."""
        if self.expires_at is not None and self.expires_at <= now:
            raise InvalidAlertRule(f"expires_at {self.expires_at} is not in the future", field="expires_at")

    def disable(self) -> "AlertRule":
        return self._to(AlertStatus.DISABLED, self.memory.cooled_down())

    def enable(self, now: float) -> "AlertRule":
        """Re-arm a disabled, done or expired rule; it starts afresh, as if just created."""
        self.check_not_expired(now)
        return self._to(AlertStatus.ARMED, self.memory.forgetting_observations().cooled_down())

    def revise(self, **changes: Any) -> "AlertRule":
        """The rule with new settings; a new source, symbol, interval or condition forgets what was seen."""
        refused = sorted(_NOT_REVISABLE & changes.keys())
        if refused:
            raise InvalidAlertRule(f"{refused[0]} cannot be revised", field=refused[0])
        revised = replace(self, **changes)
        if any(getattr(revised, name) != getattr(self, name) for name in _WATCHED):
            revised = replace(revised, memory=self.memory.forgetting_observations())
        return revised

    def advance(self, now: float) -> "AlertChange":
        """Apply the passing of time alone: expiry, end of cooldown."""
        return self._advance(now, now)

    # -- evaluation -----------------------------------------------------------------------------------

    def on_tick(self, price: float, at: float) -> "AlertChange":
        """Evaluate a live tick of this rule's symbol."""
        return self.observe_price(price, Moment.live(at))

    def observe_price(self, price: float, moment: Moment) -> "AlertChange":
        """Evaluate a price seen at `moment` (a live tick, or a point of a replayed bar)."""
        condition = self.condition
        if not isinstance(condition, TickCondition):
            raise InvalidAlertRule(f"rule {self.id} is evaluated on closed bars, not ticks", field="condition")
        observed = self.memory.observed_at
        if not self.is_active or (observed is not None and moment.at < observed):
            return AlertChange(self, ())
        return self._evaluate(moment, lambda window: condition.read_tick(price, moment.at, window))

    def on_bar_closed(self, bar: OHLCVBar, indicator_values: Mapping[str, float], now: float) -> "AlertChange":
        """Evaluate a closed bar of this rule's interval with the indicator values at that bar."""
        condition = self.condition
        if not isinstance(condition, BarCondition) or bar.interval is not self.interval:
            raise InvalidAlertRule(f"rule {self.id} is not evaluated on {bar.interval} bars", field="interval")
        moment = Moment.of_bar(bar, now)
        observed = self.memory.observed_at
        if not self.is_active or (observed is not None and moment.at <= observed):
            return AlertChange(self, ())
        return self._evaluate(moment, lambda window: (condition.read_bar(bar, indicator_values), window))

    def _evaluate(self, moment: Moment, read: Callable[[Window], tuple[Reading | None, Window]]) -> "AlertChange":
        rule, events = self._advance(moment.at, moment.now)
        if not rule.is_active:
            return AlertChange(rule, events)
        reading, window = read(rule.memory.window)
        return rule._observe(reading, moment, window)

    def _advance(self, at: float, now: float) -> "AlertChange":
        if self.is_active and self.expires_at is not None and at >= self.expires_at:
            expired = self._to(AlertStatus.EXPIRED, self.memory.cooled_down())
            event = AlertExpiredEvent(occurred_at=now, rule_id=self.id, owner=self.owner, expires_at=self.expires_at)
            return AlertChange(expired, (event,))
        until = self.memory.cooldown_until
        if self.status is AlertStatus.COOLING_DOWN and until is not None and at >= until:
            return AlertChange(self._to(AlertStatus.ARMED, self.memory.cooled_down()), ())
        return AlertChange(self, ())

    def _observe(self, reading: Reading | None, moment: Moment, window: Window) -> "AlertChange":
        memory = self.memory
        side = memory.side if reading is None or reading.side is None else reading.side
        observed = memory.observed(side, moment.at, window)
        if reading is None or self.status is not AlertStatus.ARMED or not self.condition.edge.fires(memory.side, side):
            return AlertChange(self._evolve(self.status, observed), ())
        return self._fire(reading, moment, observed)

    def _fire(self, reading: Reading, moment: Moment, memory: AlertMemory) -> "AlertChange":
        """Armed -> triggered -> the resting state, as one new rule (both steps checked by the table)."""
        check_transition(self.status, AlertStatus.TRIGGERED)
        if self.one_time:
            target, cooldown_until = AlertStatus.DONE, None
        elif self.cooldown_s > 0:
            target, cooldown_until = AlertStatus.COOLING_DOWN, moment.at + self.cooldown_s
        else:
            target, cooldown_until = AlertStatus.ARMED, None
        check_transition(AlertStatus.TRIGGERED, target)
        fired = self._evolve(target, memory.triggered(moment.at, cooldown_until))
        return AlertChange(fired, (fired._triggered_event(reading, moment),))

    def _triggered_event(self, reading: Reading, moment: Moment) -> AlertTriggeredEvent:
        return AlertTriggeredEvent(
            occurred_at=moment.now, rule_id=self.id, owner=self.owner, source=self.source, symbol=self.symbol,
            interval=self.interval, condition_kind=self.condition.kind, condition=self.condition.to_dict(),
            values=dict(reading.values), triggered_at=moment.at, late=moment.late, bar_time=moment.bar_time,
            trigger_count=self.memory.trigger_count, channels=self.channels, note=self.note,
        )

    def _to(self, target: AlertStatus, memory: AlertMemory | None = None) -> "AlertRule":
        check_transition(self.status, target)
        return self._evolve(target, self.memory if memory is None else memory)

    def _evolve(self, status: AlertStatus, memory: AlertMemory) -> "AlertRule":
        """This rule in a new state. Its settings are unchanged, so only the state is checked again:
        built slot by slot instead of through `__init__`, as this runs for every evaluation."""
        rule = object.__new__(AlertRule)
        for name in _SETTINGS:
            _set(rule, name, getattr(self, name))
        _set(rule, "status", status)
        _set(rule, "memory", memory)
        _check_state(rule)
        return rule


_SETTINGS = tuple(f.name for f in fields(AlertRule) if f.name not in ("status", "memory"))


class AlertChange(NamedTuple):
    """A rule after an evaluation and the events it raised (`rule is before` when nothing changed)."""

    rule: AlertRule
    events: tuple[DomainEvent, ...]


def _text(value: object, name: str, limit: int = 128) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise InvalidAlertRule(f"{name} must be a non-empty string of at most {limit} characters", field=name)


def _check_identity(rule: AlertRule) -> None:
    _text(rule.id, "id")
    _text(rule.owner, "owner")
    if not isinstance(rule.source, str) or not _SOURCE.match(rule.source):
        raise InvalidAlertRule(f"source must be a lowercase provider id, got {rule.source!r}", field="source")
    if not isinstance(rule.symbol, Symbol):
        raise InvalidAlertRule("symbol must be a Symbol", field="symbol")


def _check_condition(rule: AlertRule) -> None:
    if not isinstance(rule.condition, Condition):
        raise InvalidCondition("condition must be a Condition", field="condition")
    if rule.interval is not None and not isinstance(rule.interval, Interval):
        raise InvalidAlertRule("interval must be an Interval", field="interval")
    on_bars = isinstance(rule.condition, BarCondition)
    if on_bars and rule.interval is None:
        raise InvalidAlertRule(f"a {rule.condition.kind} condition needs an interval", field="interval")
    if not on_bars and rule.interval is not None:
        raise InvalidAlertRule(
            f"a {rule.condition.kind} condition is evaluated on ticks and takes no interval", field="interval"
        )


def _finite_number(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def _check_timing(rule: AlertRule) -> None:
    if not _finite_number(rule.cooldown_s) or rule.cooldown_s < 0:
        raise InvalidAlertRule(f"cooldown_s must be a finite number >= 0, got {rule.cooldown_s!r}", field="cooldown_s")
    if rule.expires_at is not None and not _finite_number(rule.expires_at):
        raise InvalidAlertRule(f"expires_at must be epoch seconds, got {rule.expires_at!r}", field="expires_at")


def _check_delivery(rule: AlertRule) -> None:
    channels = rule.channels
    if not isinstance(channels, tuple) or any(c not in CHANNELS for c in channels):
        raise InvalidAlertRule(f"channels must be a tuple of {', '.join(CHANNELS)}", field="channels")
    if len(set(channels)) != len(channels):
        raise InvalidAlertRule("channels must not repeat", field="channels")
    if not isinstance(rule.note, str) or len(rule.note) > MAX_NOTE_LENGTH:
        raise InvalidAlertRule(f"note must be a string of at most {MAX_NOTE_LENGTH} characters", field="note")
    if not isinstance(rule.one_time, bool):
        raise InvalidAlertRule("one_time must be a boolean", field="one_time")


def _check_state(rule: AlertRule) -> None:
    if not isinstance(rule.status, AlertStatus):
        raise InvalidAlertRule(f"unknown status {rule.status!r}", field="status")
    if (rule.status is AlertStatus.COOLING_DOWN) != (rule.memory.cooldown_until is not None):
        raise InvalidAlertRule("cooldown_until is set exactly while cooling down", field="status")
