"""The alert rule aggregate: validation, cooldown, one-time, expiry, disabled, restart, late bars, events."""

import json
import math
from dataclasses import replace

import pytest

from src.domain.alerts import AlertExpiredEvent, AlertMemory, AlertRule, AlertStatus, AlertTriggeredEvent
from src.domain.alerts.errors import InvalidAlertRule
from src.domain.market_data import Interval
from tests.unit.domain.alert_builders import AAPL, T0, feed, minute_bar, rule

CROSS_UP = {"kind": "price_crosses", "level": 100.0, "direction": "up"}
CROSS_EITHER = {"kind": "price_crosses", "level": 100.0}
RSI_ABOVE = {"kind": "rsi_above", "level": 70}


# --- validation ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"condition": RSI_ABOVE}, "interval"),
        ({"interval": Interval.M1}, "interval"),
        ({"cooldown_s": -1}, "cooldown_s"),
        ({"cooldown_s": math.inf}, "cooldown_s"),
        ({"expires_at": math.nan}, "expires_at"),
        ({"channels": ("sms",)}, "channels"),
        ({"channels": ("log", "log")}, "channels"),
        ({"channels": ["log"]}, "channels"),
        ({"source": "TradingView"}, "source"),
        ({"owner": " "}, "owner"),
        ({"id": ""}, "id"),
        ({"note": "x" * 1001}, "note"),
        ({"one_time": 1}, "one_time"),
        ({"status": AlertStatus.COOLING_DOWN}, "status"),
        ({"memory": AlertMemory(cooldown_until=T0)}, "status"),
    ],
)
def test_an_invalid_rule_is_refused_naming_the_field(fields, field):
    condition = fields.pop("condition", CROSS_UP)
    with pytest.raises(InvalidAlertRule) as raised:
        rule(condition, **fields)
    assert raised.value.field == field


def test_a_bar_condition_with_its_interval_and_a_tick_condition_without_are_valid():
    assert rule(RSI_ABOVE, interval=Interval.H1).interval is Interval.H1
    assert rule(CROSS_UP).interval is None


def test_an_expiry_in_the_past_is_refused_by_the_creation_check_not_by_the_constructor():
    alert = rule(CROSS_UP, expires_at=T0)
    with pytest.raises(InvalidAlertRule) as raised:
        alert.check_not_expired(now=T0)
    assert raised.value.field == "expires_at"
    alert.check_not_expired(now=T0 - 1)


# --- cooldown ------------------------------------------------------------------------------------------


def test_a_crossing_during_the_cooldown_does_not_fire_and_is_not_fired_later():
    alert, events = feed(rule(CROSS_UP, cooldown_s=60), (99, T0), (101, T0 + 1), (99, T0 + 2), (101, T0 + 3))
    assert len(events) == 1
    after, late_events = feed(alert, (101, T0 + 100), (102, T0 + 101))
    assert late_events == [] and after.status is AlertStatus.ARMED


def test_after_the_cooldown_a_fresh_crossing_fires():
    _, events = feed(rule(CROSS_UP, cooldown_s=60), (99, T0), (101, T0 + 1), (99, T0 + 2), (101, T0 + 100))
    assert [e.triggered_at for e in events] == [T0 + 1, T0 + 100]


def test_the_cooldown_ends_exactly_at_cooldown_until():
    alert, _ = feed(rule(CROSS_UP, cooldown_s=60), (99, T0), (101, T0 + 1), (99, T0 + 2))
    assert feed(alert, (101, T0 + 60.999))[1] == []
    assert len(feed(alert, (101, T0 + 61))[1]) == 1


def test_the_side_is_tracked_during_the_cooldown():
    alert, _ = feed(rule(CROSS_UP, cooldown_s=60), (99, T0), (101, T0 + 1), (99, T0 + 2))
    assert alert.status is AlertStatus.COOLING_DOWN and alert.memory.side == "below"


def test_advance_ends_a_due_cooldown_without_an_observation():
    alert, _ = feed(rule(CROSS_UP, cooldown_s=60), (99, T0), (101, T0 + 1))
    assert alert.advance(T0 + 60).rule is alert
    armed = alert.advance(T0 + 61).rule
    assert armed.status is AlertStatus.ARMED and armed.memory.cooldown_until is None


# --- one-time, expiry, disabled ------------------------------------------------------------------------


def test_a_one_time_rule_fires_once_and_ignores_later_crossings():
    done, events = feed(rule(CROSS_EITHER, one_time=True), (99, T0), (101, T0 + 1), (99, T0 + 2), (101, T0 + 3))
    assert len(events) == 1 and done.status is AlertStatus.DONE


def test_a_rule_expires_at_expires_at_without_firing():
    alert, events = feed(rule(CROSS_UP, expires_at=T0 + 10), (99, T0), (101, T0 + 10))
    assert alert.status is AlertStatus.EXPIRED
    assert events == [AlertExpiredEvent(occurred_at=T0 + 10, rule_id="r1", owner="alice", expires_at=T0 + 10)]


def test_a_rule_fires_just_before_it_expires_and_expires_after():
    _, events = feed(rule(CROSS_UP, expires_at=T0 + 10), (99, T0), (101, T0 + 9.5), (99, T0 + 11))
    assert [type(e) for e in events] == [AlertTriggeredEvent, AlertExpiredEvent]


def test_a_cooling_down_rule_expires_too():
    alert, _ = feed(rule(CROSS_UP, cooldown_s=60, expires_at=T0 + 30), (99, T0), (101, T0 + 1))
    expired, events = alert.advance(T0 + 30)
    assert expired.status is AlertStatus.EXPIRED and expired.memory.cooldown_until is None
    assert len(events) == 1


def test_a_disabled_rule_ignores_ticks_and_bars():
    alert = rule(CROSS_UP).disable()
    assert alert.on_tick(99, T0).rule is alert and alert.on_tick(101, T0 + 1) == (alert, ())
    bars = rule(RSI_ABOVE, interval=Interval.M1).disable()
    bar = minute_bar(T0, 10.0)
    assert bars.on_bar_closed(bar, {"rsi_14": 90.0}, now=bar.closes_at) == (bars, ())


def test_a_tick_older_than_the_last_observation_is_ignored():
    alert, _ = feed(rule(CROSS_UP), (101, T0 + 10))
    assert alert.on_tick(99, T0 + 5).rule is alert


def test_ticks_with_the_same_time_are_all_observed():
    assert len(feed(rule(CROSS_UP), (99, T0), (101, T0))[1]) == 1


# --- restart: the state is a plain value ---------------------------------------------------------------


def _restored(alert: AlertRule) -> AlertRule:
    """What a store gives back after a restart: plain JSON fields turned into a rule again."""
    stored = json.loads(json.dumps({"status": alert.status, "memory": alert.memory.to_dict()}))
    return replace(alert, status=AlertStatus(stored["status"]), memory=AlertMemory.from_dict(stored["memory"]))


def test_memory_survives_a_json_round_trip_with_every_field_set():
    memory = AlertMemory(side="above", observed_at=T0 + 0.5, trigger_count=3, last_triggered_at=T0,
                         cooldown_until=T0 + 60, window=((28_333_334, 99.5, 101.25),))
    assert AlertMemory.from_dict(json.loads(json.dumps(memory.to_dict()))) == memory


def test_a_restart_between_two_ticks_of_a_crossing_fires_once():
    before, _ = feed(rule(CROSS_UP), (99, T0))
    _, events = feed(_restored(before), (101, T0 + 1), (102, T0 + 2))
    assert len(events) == 1


def test_a_restart_after_a_crossing_does_not_fire_it_again():
    fired, first = feed(rule(CROSS_UP), (99, T0), (101, T0 + 1))
    _, events = feed(_restored(fired), (101, T0 + 1), (102, T0 + 2))
    assert len(first) == 1 and events == []


def test_a_crossing_that_happened_while_down_fires_on_the_first_tick_after_the_restart():
    before, _ = feed(rule(CROSS_UP), (99, T0))
    assert len(feed(_restored(before), (105, T0 + 600))[1]) == 1


def test_a_restart_keeps_the_percent_change_window():
    before, _ = feed(rule({"kind": "percent_change", "percent": 5, "window_s": 3600}), (100, T0))
    assert len(feed(_restored(before), (105, T0 + 60))[1]) == 1


def test_a_restart_keeps_the_cooldown():
    cooling, _ = feed(rule(CROSS_EITHER, cooldown_s=60), (99, T0), (101, T0 + 1))
    assert feed(_restored(cooling), (99, T0 + 2))[1] == []


def test_memory_from_a_malformed_store_is_refused_naming_the_field():
    with pytest.raises(InvalidAlertRule) as raised:
        AlertMemory.from_dict({"side": "sideways"})
    assert raised.value.field == "memory.side"


# --- closed bars: live, late, re-delivered -------------------------------------------------------------


def _rsi_rule(**fields):
    return rule(RSI_ABOVE, interval=Interval.M1, **fields)


def test_a_bar_evaluated_during_the_next_period_is_not_late():
    bar = minute_bar(T0, 10.0)
    _, (event,) = _rsi_rule().on_bar_closed(bar, {"rsi_14": 80.0}, now=bar.closes_at + 59)
    assert not event.late and event.triggered_at == T0 + 60 and event.bar_time == T0


def test_backfilled_bars_after_an_outage_fire_late_at_their_own_time():
    alert = _rsi_rule()
    now = T0 + 10 * 60  # the service was down for ten minutes
    fired = []
    for i, rsi in enumerate([60.0, 65.0, 75.0, 72.0, 50.0, 71.0]):
        bar = minute_bar(T0 + 60 * i, 10.0)
        alert, events = alert.on_bar_closed(bar, {"rsi_14": rsi}, now=now)
        fired += events
    assert [(e.bar_time, e.triggered_at, e.late, e.occurred_at) for e in fired] == [
        (T0 + 120, T0 + 180, True, now), (T0 + 300, T0 + 360, True, now)]


def test_the_last_backfilled_bar_within_its_next_period_is_not_late():
    bar = minute_bar(T0, 10.0)
    assert _rsi_rule().on_bar_closed(bar, {"rsi_14": 80.0}, now=T0 + 119).events[0].late is False
    assert _rsi_rule().on_bar_closed(bar, {"rsi_14": 80.0}, now=T0 + 120).events[0].late is True


def test_a_bar_delivered_twice_fires_once():
    bar = minute_bar(T0, 10.0)
    alert, first = _rsi_rule().on_bar_closed(bar, {"rsi_14": 80.0}, now=bar.closes_at)
    assert len(first) == 1
    assert alert.on_bar_closed(bar, {"rsi_14": 60.0}, now=bar.closes_at + 5) == (alert, ())


def test_a_restart_between_backfilled_bars_neither_refires_nor_misses():
    bars = [minute_bar(T0 + 60 * i, 10.0) for i in range(4)]
    rsi = [60.0, 75.0, 65.0, 80.0]
    alert, fired = _rsi_rule(), []
    for bar, value in zip(bars[:2], rsi[:2], strict=True):
        alert, events = alert.on_bar_closed(bar, {"rsi_14": value}, now=T0 + 600)
        fired += events
    alert = _restored(alert)
    for bar, value in zip(bars, rsi, strict=True):  # the store replays from the start
        alert, events = alert.on_bar_closed(bar, {"rsi_14": value}, now=T0 + 600)
        fired += events
    assert [e.bar_time for e in fired] == [T0 + 60, T0 + 180]


def test_a_bar_of_another_interval_or_a_tick_for_a_bar_rule_is_a_programming_error():
    with pytest.raises(InvalidAlertRule):
        rule(RSI_ABOVE, interval=Interval.M5).on_bar_closed(minute_bar(T0, 10.0), {"rsi_14": 1.0}, now=T0)
    with pytest.raises(InvalidAlertRule):
        _rsi_rule().on_tick(10.0, T0)


# --- the event -----------------------------------------------------------------------------------------


def test_the_triggered_event_carries_the_rule_and_the_values_that_fired_it():
    alert = rule(CROSS_UP, id="r9", owner="bob", channels=("webhook", "websocket"), note="breakout", cooldown_s=5)
    _, (event,) = feed(alert, (99, T0), (101.5, T0 + 1.25))
    assert event == AlertTriggeredEvent(
        occurred_at=T0 + 1.25, correlation_id=None, rule_id="r9", owner="bob", source="tradingview", symbol=AAPL,
        interval=None, condition_kind="price_crosses", condition=CROSS_UP, values={"price": 101.5, "level": 100.0},
        triggered_at=T0 + 1.25, late=False, bar_time=None, trigger_count=1, channels=("webhook", "websocket"),
        note="breakout",
    )


# --- revising a rule -----------------------------------------------------------------------------------


def test_revising_what_a_rule_watches_forgets_what_it_saw_but_keeps_its_counters():
    fired, _ = feed(rule(CROSS_UP), (99, T0), (101, T0 + 1))
    moved = fired.revise(condition=replace(fired.condition, level=200.0))
    assert (moved.memory.side, moved.memory.observed_at, moved.memory.trigger_count) == ("unknown", None, 1)


def test_revising_the_delivery_keeps_the_memory():
    fired, _ = feed(rule(CROSS_UP), (99, T0), (101, T0 + 1))
    assert fired.revise(note="new", channels=("webhook",)).memory == fired.memory


def test_revising_identity_or_state_is_refused():
    with pytest.raises(InvalidAlertRule) as raised:
        rule(CROSS_UP).revise(owner="mallory")
    assert raised.value.field == "owner"
