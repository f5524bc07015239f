"""The alerts slice through the Mediator with the root's fakes: rules created by owners, evaluated on the live
ticks of the fake feed and on published closed bars, persisted before delivery, across restarts."""

import math
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from src.common.errors import NotFound
from src.domain.alerts import AlertTriggeredEvent
from src.domain.alerts.errors import InvalidAlertRule, InvalidCondition, UnknownIndicator
from src.domain.events import BarCompletedEvent
from src.domain.market_data import Interval, OHLCVBar, QuoteTick, SeriesKey, Symbol
from src.features.alerts import messages as m
from src.features.alerts.evaluator import AlertEvaluator
from src.features.alerts.slice import build
from src.features.quotes.messages import StartQuotesCommand
from tests.fakes import FakeClock
from tests.world import SOURCE, World

BTC = Symbol("BINANCE", "BTCUSDT")
T0 = 1_700_006_400
ALICE = m.AlertActor("alice-id", sees_all=False)
BOB = m.AlertActor("bob-id", sees_all=False)
ADMIN = m.AlertActor("admin-id", sees_all=True)
CROSS_UP_100 = {"kind": "price_crosses", "level": 100.0, "direction": "up"}


class AlertsWorld(World):
    """The root with fakes; the source's history seeds the forming bar (opening at T0) of a subscription."""

    def __init__(self) -> None:
        super().__init__(clock=FakeClock(T0), live_bar_intervals=["1m"], live_close_every_s=3600)
        self.provider.add_history(BTC, Interval.M1, T0 - 120, 3, price=50.0)
        self.evaluator: AlertEvaluator = self.exposed("alerts", "evaluator")
        self.sent: list[AlertTriggeredEvent] = []
        self.event_bus.subscribe(AlertTriggeredEvent, self.sent.append)

    async def create(self, condition=CROSS_UP_100, actor=ALICE, **settings) -> str:
        interval = settings.pop("interval", None)
        command = m.CreateAlertCommand(actor, m.AlertSettings(SOURCE, BTC, condition, interval=interval, **settings))
        return (await self.mediator.send(command)).rule.id

    async def watch(self) -> None:
        """The evaluator holds its rules' symbols; the source's history is backfilled (its bars published)."""
        await self.evaluator.refresh()
        await self.exposed("quotes", "service").drain()
        await self.evaluator.write_pending()

    async def tick(self, offset: float, price: float) -> None:
        self.clock.value = T0 + offset
        await self.feed.push(QuoteTick(BTC, T0 + offset, price, 1.0))
        await self.evaluator.write_pending()

    async def bar(self, time: int, o: float, h: float, lo: float, c: float, interval=Interval.M1, now=None) -> None:
        bar = OHLCVBar(interval, time, o, h, lo, c, 10.0)
        key = SeriesKey(BTC, interval, SOURCE)
        await self.bars.upsert(key, [bar])
        self.clock.value = now if now is not None else bar.closes_at + 2
        await self.event_bus.publish(BarCompletedEvent(key=key, bar=bar, occurred_at=self.clock.now()))
        await self.evaluator.write_pending()

    async def restart(self) -> AlertEvaluator:
        """The evaluator stops (writing what is pending) and a new one takes over from the store."""
        await self.evaluator.stop()
        old = self.evaluator
        self.evaluator = AlertEvaluator(self.alert_rules, self.alert_triggers, self.root.core.leases,
                                        self.root.core.live, self.bars, self.clock, self.event_bus)
        self.event_bus.subscribe(BarCompletedEvent, self.evaluator.on_bar_completed)
        await self.evaluator.start()
        return old

    def history(self, rule_id: str) -> list[AlertTriggeredEvent]:
        return sorted((e for (r, _), e in self.alert_triggers.triggers.items() if r == rule_id),
                      key=lambda e: e.trigger_count)


@pytest.fixture
async def world() -> AsyncIterator[AlertsWorld]:
    w = AlertsWorld()
    await w.root.lifecycle.start()
    await w.mediator.send(StartQuotesCommand(()))
    try:
        yield w
    finally:
        await w.root.lifecycle.stop()


async def test_a_crossing_fires_once_is_recorded_with_its_values_and_then_delivered(world):
    rule_id = await world.create(channels=("log", "webhook"))
    await world.watch()  # holds the symbol upstream
    assert BTC in world.feed.subscribed
    for offset, price in ((1, 99.0), (2, 101.0), (3, 102.0), (4, 100.0), (5, 103.0)):
        await world.tick(offset, price)
    [trigger] = world.history(rule_id)
    assert trigger.values == {"price": 101.0, "level": 100.0} and trigger.triggered_at == T0 + 2
    assert not trigger.late and trigger.trigger_count == 1
    assert world.sent == [trigger]
    assert [(t, d["rule_id"]) for t, d, *_ in world.webhooks.sent if t == "alert.triggered"] == [
        ("alert.triggered", rule_id)]
    stored = world.alert_rules.rules[rule_id]
    assert stored.rule.memory.trigger_count == 1 and str(stored.rule.memory.side) == "above"


async def test_a_restart_between_two_ticks_of_a_crossing_does_not_fire_it_again(world):
    rule_id = await world.create()
    above = await world.create({"kind": "price_above", "level": 100.0})  # fires when first seen above
    await world.watch()
    await world.tick(1, 99.0)
    await world.tick(2, 101.0)
    await world.restart()
    await world.tick(3, 102.0)  # still above: no new crossing
    assert len(world.history(rule_id)) == 1 and len(world.history(above)) == 1
    await world.tick(4, 98.0)
    await world.tick(5, 101.5)  # a new crossing after the restart fires
    assert [t.trigger_count for t in world.history(rule_id)] == [1, 2]


async def test_a_crossing_inside_an_outage_fires_once_from_the_backfilled_bars_marked_late(world):
    rule_id = await world.create()
    await world.watch()
    await world.tick(1, 99.0)  # below, in the bar opening at T0
    await world.restart()  # down meanwhile; its bars come back from the source's history
    late_now = T0 + 600
    await world.bar(T0 + 60, 99.0, 104.0, 98.5, 103.0, now=late_now)  # crossed up inside the outage
    await world.bar(T0 + 60, 99.0, 104.0, 98.5, 103.0, now=late_now)  # the same bar again (a repeat)
    [trigger] = world.history(rule_id)
    assert trigger.late and trigger.bar_time == T0 + 60 and trigger.values["price"] == 104.0
    await world.tick(700, 105.0)  # live again, still above: nothing more
    assert len(world.history(rule_id)) == 1


async def test_bar_rules_read_the_indicators_computed_on_the_stored_bars(world):
    condition = {"kind": "price_crosses_ma", "average": "sma", "period": 3, "direction": "up"}
    rule_id = await world.create(condition, interval=Interval.M1)
    await world.watch()
    closes = [10.0, 10.0, 10.0, 9.0, 12.0]  # sma3 at the last: (10 + 9 + 12) / 3 = 10.33; close 12 crosses up
    for i, close in enumerate(closes):
        await world.bar(T0 + 60 * i, close, close, close, close)
    [trigger] = world.history(rule_id)
    assert trigger.bar_time == T0 + 240 and math.isclose(trigger.values["sma_3"], 31 / 3)
    assert trigger.values["close"] == 12.0


async def test_a_one_time_rule_ends_done_and_a_disabled_rule_does_not_fire(world):
    once = await world.create(one_time=True)
    off = await world.create()
    await world.mediator.send(m.DisableAlertCommand(ALICE, off))
    await world.watch()
    for offset, price in ((1, 99.0), (2, 101.0), (3, 99.0), (4, 101.0)):
        await world.tick(offset, price)
    assert len(world.history(once)) == 1 and world.history(off) == []
    assert str((await world.mediator.send(m.GetAlertQuery(ALICE, once))).rule.status) == "done"
    enabled = await world.mediator.send(m.EnableAlertCommand(ALICE, once))
    assert str(enabled.rule.status) == "armed" and enabled.rule.memory.trigger_count == 1


async def test_a_cooldown_holds_back_crossings_until_it_ends(world):
    rule_id = await world.create({"kind": "price_crosses", "level": 100.0}, cooldown_s=60)
    await world.watch()
    for offset, price in ((1, 99.0), (2, 101.0), (3, 99.0), (10, 101.0), (70, 99.0)):
        await world.tick(offset, price)
    assert [t.triggered_at - T0 for t in world.history(rule_id)] == [2, 70]


async def test_owners_reach_only_their_rules_and_admins_reach_every_rule(world):
    alice = await world.create()
    bob = await world.create(actor=BOB)
    with pytest.raises(NotFound):
        await world.mediator.send(m.GetAlertQuery(BOB, alice))
    with pytest.raises(NotFound):
        await world.mediator.send(m.DeleteAlertCommand(BOB, alice))
    assert [s.rule.id for s in await world.mediator.send(m.ListAlertsQuery(BOB))] == [bob]
    assert {s.rule.id for s in await world.mediator.send(m.ListAlertsQuery(ADMIN))} == {alice, bob}
    await world.mediator.send(m.DeleteAlertCommand(ADMIN, bob))
    assert [s.rule.id for s in await world.mediator.send(m.ListAlertsQuery(ADMIN))] == [alice]


@pytest.mark.parametrize(("condition", "interval", "error", "field"), [
    ({"kind": "price_crosses_ma", "average": "wma", "period": 5}, Interval.M1, UnknownIndicator, "condition.average"),
    ({"kind": "price_above", "level": "high"}, None, InvalidCondition, "condition.level"),
    ({"kind": "rsi_above", "level": 70}, None, InvalidAlertRule, "interval"),
    ({"kind": "price_above", "level": 1}, Interval.M1, InvalidAlertRule, "interval"),
    ({"kind": "nope"}, None, InvalidCondition, "condition.kind"),
])
async def test_invalid_conditions_are_refused_naming_the_field(world, condition, interval, error, field):
    with pytest.raises(error) as refused:
        await world.create(condition, interval=interval)
    assert refused.value.field == field
    assert world.alert_rules.rules == {}


async def test_a_webhook_channel_is_refused_where_no_webhook_is_configured():
    parts = build(replace(World(clock=FakeClock(T0)).root.core, webhooks=None))  # no WEBHOOK_URLS
    with pytest.raises(InvalidAlertRule) as refused:
        await parts.handlers[m.CreateAlertCommand](m.CreateAlertCommand(ALICE, m.AlertSettings(
            SOURCE, BTC, CROSS_UP_100, channels=("webhook",))))
    assert refused.value.field == "channels"


async def test_an_edit_of_its_delivery_keeps_what_the_rule_had_seen(world):
    rule_id = await world.create()
    await world.watch()
    await world.tick(1, 99.0)
    await world.mediator.send(m.ReviseAlertCommand(ALICE, rule_id, {"note": "watch BTC", "channels": ("log",)}))
    await world.tick(2, 101.0)  # the crossing is still seen as one
    [trigger] = world.history(rule_id)
    assert trigger.note == "watch BTC"
    moved = await world.mediator.send(m.ReviseAlertCommand(ALICE, rule_id, {"condition": {**CROSS_UP_100,
                                                                                           "level": 200.0}}))
    assert str(moved.rule.memory.side) == "unknown"  # watching something new: starts afresh


# --- the edge-trigger invariant, across restarts --------------------------------------------------------


def crossings_up(prices: list[float], level: float) -> int:
    """Independent reference: count witnessed moves from strictly below to strictly above (touches keep the side)."""
    side, count = None, 0
    for price in prices:
        now = "above" if price > level else "below" if price < level else side
        if side == "below" and now == "above":
            count += 1
        side = now
    return count


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prices=st.lists(st.sampled_from([98.0, 99.0, 100.0, 101.0, 102.0]), min_size=1, max_size=25),
       restarts=st.sets(st.integers(0, 24), max_size=3))
async def test_a_crossing_rule_fires_once_per_crossing_whatever_the_restarts(prices, restarts):
    world = AlertsWorld()
    await world.root.lifecycle.start()
    try:
        await world.mediator.send(StartQuotesCommand(()))
        rule_id = await world.create()
        await world.watch()
        for i, price in enumerate(prices):
            if i in restarts:
                await world.restart()
            await world.tick(i + 1, price)
        assert len(world.history(rule_id)) == crossings_up(prices, 100.0)
        assert len(world.sent) == len(world.history(rule_id))
    finally:
        await world.root.lifecycle.stop()


async def test_triggers_a_stopped_process_left_in_an_outbox_are_recorded_not_delivered_again(world):
    rule_id = await world.create()
    await world.watch()
    await world.tick(1, 99.0)
    await world.tick(2, 101.0)
    [first] = world.history(rule_id)
    assert world.alert_rules.rules[rule_id].outbox == ()  # recorded: out of the outbox
    stored = world.alert_rules.rules[rule_id]  # another process wrote a trigger with the state, then died
    lost = replace(first, trigger_count=2)
    await world.alert_rules.save(stored.rule, expected_revision=stored.revision, now=None, triggers=[lost])
    delivered = len(world.sent)
    await world.restart()
    await world.evaluator.write_pending()
    assert [t.trigger_count for t in world.history(rule_id)] == [1, 2]
    assert len(world.sent) == delivered and world.alert_rules.rules[rule_id].outbox == ()


async def test_a_trigger_not_yet_written_when_its_owner_disables_the_rule_is_not_delivered(world):
    rule_id = await world.create()
    await world.watch()
    await world.tick(1, 99.0)
    world.clock.value = T0 + 2
    await world.feed.push(QuoteTick(BTC, T0 + 2, 101.0, 1.0))  # fires in memory; the writer has not run yet
    await world.mediator.send(m.DisableAlertCommand(ALICE, rule_id))  # the owner's change lands first
    await world.evaluator.write_pending()
    assert world.history(rule_id) == [] and world.sent == []
    assert str(world.alert_rules.rules[rule_id].rule.status) == "disabled"


async def test_after_a_restart_ticks_wait_for_the_backfilled_bars_so_the_gap_is_evaluated_first(world):
    rule_id = await world.create()
    await world.watch()
    await world.tick(1, 99.0)
    world.clock.value = T0 + 600  # down for ten minutes
    await world.restart()
    await world.tick(601, 105.0)  # the first tick after the restart: held until the gap is backfilled
    assert world.history(rule_id) == []
    await world.bar(T0 + 60, 99.0, 104.0, 98.5, 103.0, now=T0 + 602)  # crossed up inside the gap
    await world.bar(T0 + 540, 103.0, 104.0, 102.0, 104.0, now=T0 + 602)  # reaches the forming bar: gap closed
    [trigger] = world.history(rule_id)
    assert trigger.late and trigger.bar_time == T0 + 60 and trigger.values["price"] == 104.0
    assert str(world.alert_rules.rules[rule_id].rule.memory.side) == "above"
