"""The lifecycle of an alert rule, as an explicit transition table checked in one place.

* `armed`: evaluated; a condition that becomes true fires.
* `triggered`: the instant of firing. An evaluation that fires passes through it (the table is checked)
  and returns the rule in its resting state: `done` (one-time), `cooling_down` (cooldown > 0) or `armed`.
  The `AlertTriggeredEvent` is the durable trace of a trigger; a stored rule is never `triggered`.
* `cooling_down`: evaluated (its side is tracked) but does not fire until `now >= cooldown_until`.
* `done`: a one-time rule that fired. `expired`: reached `expires_at` without (or between) firing.
* `disabled`: switched off by its owner. Any state may be disabled.
* `enable` re-arms a `disabled`, `done` or `expired` rule with a fresh evaluation memory.
"""

from enum import StrEnum

from src.domain.errors import InvalidTransition


class AlertStatus(StrEnum):
    ARMED = "armed"
    TRIGGERED = "triggered"
    COOLING_DOWN = "cooling_down"
    DONE = "done"
    EXPIRED = "expired"
    DISABLED = "disabled"


TRANSITIONS: dict[AlertStatus, frozenset[AlertStatus]] = {
    AlertStatus.ARMED: frozenset({AlertStatus.TRIGGERED, AlertStatus.EXPIRED, AlertStatus.DISABLED}),
    # Repeating without cooldown goes straight back to armed.
    AlertStatus.TRIGGERED: frozenset(
        {AlertStatus.COOLING_DOWN, AlertStatus.ARMED, AlertStatus.DONE, AlertStatus.DISABLED}
    ),
    AlertStatus.COOLING_DOWN: frozenset({AlertStatus.ARMED, AlertStatus.EXPIRED, AlertStatus.DISABLED}),
    AlertStatus.DONE: frozenset({AlertStatus.ARMED, AlertStatus.DISABLED}),
    AlertStatus.EXPIRED: frozenset({AlertStatus.ARMED, AlertStatus.DISABLED}),
    AlertStatus.DISABLED: frozenset({AlertStatus.ARMED}),
}

# The states in which a rule is evaluated (and indexed by the alert book).
ACTIVE = frozenset({AlertStatus.ARMED, AlertStatus.COOLING_DOWN})


def check_transition(current: AlertStatus, target: AlertStatus) -> None:
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(f"alert rule cannot go from {current} to {target}", field="status")
