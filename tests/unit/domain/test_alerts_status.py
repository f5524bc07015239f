import pytest

from src.domain.alerts import TRANSITIONS, AlertStatus, check_transition
from src.domain.alerts.errors import InvalidAlertRule
from src.domain.errors import InvalidTransition
from tests.unit.domain.alert_builders import T0, feed, rule

S = AlertStatus
ALLOWED = {
    (S.ARMED, S.TRIGGERED), (S.ARMED, S.EXPIRED), (S.ARMED, S.DISABLED),
    (S.TRIGGERED, S.COOLING_DOWN), (S.TRIGGERED, S.ARMED), (S.TRIGGERED, S.DONE), (S.TRIGGERED, S.DISABLED),
    (S.COOLING_DOWN, S.ARMED), (S.COOLING_DOWN, S.EXPIRED), (S.COOLING_DOWN, S.DISABLED),
    (S.DONE, S.ARMED), (S.DONE, S.DISABLED),
    (S.EXPIRED, S.ARMED), (S.EXPIRED, S.DISABLED),
    (S.DISABLED, S.ARMED),
}


@pytest.mark.parametrize("current", list(AlertStatus))
@pytest.mark.parametrize("target", list(AlertStatus))
def test_transition_table_is_exactly_the_lifecycle(current, target):
    if (current, target) in ALLOWED:
        check_transition(current, target)
        assert target in TRANSITIONS[current]
    else:
        with pytest.raises(InvalidTransition) as raised:
            check_transition(current, target)
        assert raised.value.field == "status"


def test_every_state_can_be_disabled_except_disabled_itself():
    assert {s for s in AlertStatus if S.DISABLED in TRANSITIONS[s]} == set(AlertStatus) - {S.DISABLED}


CROSS_UP = {"kind": "price_crosses", "level": 100.0, "direction": "up"}


def test_a_repeating_rule_without_cooldown_rests_armed_after_firing():
    fired, events = feed(rule(CROSS_UP), (99, T0), (101, T0 + 1))
    assert len(events) == 1 and fired.status is S.ARMED


def test_a_repeating_rule_with_cooldown_rests_cooling_down_until_the_cooldown_ends():
    fired, _ = feed(rule(CROSS_UP, cooldown_s=60), (99, T0), (101, T0 + 1))
    assert fired.status is S.COOLING_DOWN and fired.memory.cooldown_until == T0 + 61


def test_a_one_time_rule_is_done_after_firing():
    fired, events = feed(rule(CROSS_UP, one_time=True), (99, T0), (101, T0 + 1))
    assert len(events) == 1 and fired.status is S.DONE


def test_disabling_clears_the_cooldown_and_enabling_starts_afresh_keeping_counters():
    cooling, _ = feed(rule(CROSS_UP, cooldown_s=60), (99, T0), (101, T0 + 1))
    disabled = cooling.disable()
    assert disabled.status is S.DISABLED and disabled.memory.cooldown_until is None
    enabled = disabled.enable(now=T0 + 2)
    assert enabled.status is S.ARMED
    assert (enabled.memory.side, enabled.memory.observed_at, enabled.memory.trigger_count) == ("unknown", None, 1)


def test_disabling_a_disabled_rule_is_an_invalid_transition():
    with pytest.raises(InvalidTransition):
        rule(CROSS_UP).disable().disable()


def test_a_done_rule_can_be_enabled_again():
    done, _ = feed(rule(CROSS_UP, one_time=True), (99, T0), (101, T0 + 1))
    again, events = feed(done.enable(now=T0 + 2), (99, T0 + 3), (101, T0 + 4))
    assert len(events) == 1 and again.status is S.DONE and again.memory.trigger_count == 2


def test_an_armed_rule_cannot_be_enabled():
    with pytest.raises(InvalidTransition):
        rule(CROSS_UP).enable(now=T0)


def test_enabling_a_rule_whose_expiry_has_passed_is_refused_naming_expires_at():
    expired, _ = feed(rule(CROSS_UP, expires_at=T0 + 10), (99, T0 + 10))
    assert expired.status is S.EXPIRED
    with pytest.raises(InvalidAlertRule) as raised:
        expired.enable(now=T0 + 20)
    assert raised.value.field == "expires_at"
    assert expired.revise(expires_at=T0 + 100).enable(now=T0 + 20).status is S.ARMED
