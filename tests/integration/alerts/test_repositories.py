"""The alert repositories on a real (embedded) MongoDB: a rule round-trips with every field and what it
remembers, writes are refused over a stale revision (even when raced), deletions are seen by evaluators
polling for changes, and a trigger is recorded once with every field."""

import asyncio

import pytest

from src.common.ports import ALERT_SHARDS, alert_shard
from src.domain.alerts import AlertMemory, AlertRule, AlertStatus, AlertTriggeredEvent, Side, parse_condition
from src.domain.market_data import Interval, Symbol
from src.infrastructure.mongo.alert_repository import MongoAlertRuleRepository, MongoAlertTriggerRepository

pytestmark = pytest.mark.integration

BTC = Symbol("BINANCE", "BTCUSDT")
EVERY_SHARD = range(ALERT_SHARDS)


def full_rule(rule_id: str = "00000000000000a1", owner: str = "u1") -> AlertRule:
    return AlertRule(
        id=rule_id, owner=owner, source="binance", symbol=BTC, interval=Interval.H1,
        condition=parse_condition({"kind": "macd_crosses_signal", "fast": 8, "slow": 21, "signal": 5,
                                   "direction": "down"}),
        cooldown_s=90.5, one_time=False, expires_at=2_000_000_000.0, channels=("webhook", "websocket", "log"),
        note="MACD turns down", status=AlertStatus.COOLING_DOWN,
        memory=AlertMemory(side=Side.BELOW, observed_at=1_700_000_000.0, trigger_count=3,
                           last_triggered_at=1_699_999_000.0, cooldown_until=1_700_000_090.5, window=()),
    )


def trigger(count: int) -> AlertTriggeredEvent:
    return AlertTriggeredEvent(
        occurred_at=1_700_000_100.0 + count, correlation_id="c1", rule_id="r1", owner="u1", source="binance",
        symbol=BTC, interval=Interval.H1, condition_kind="macd_crosses_signal",
        condition={"kind": "macd_crosses_signal", "fast": 8, "slow": 21, "signal": 5, "direction": "down"},
        values={"close": 99.5, "macd_8_21_5": -0.25, "macd_signal_8_21_5": -0.125},
        triggered_at=1_700_000_000.0 + count, late=count == 2, bar_time=1_699_996_400, trigger_count=count,
        channels=("webhook", "log"), note="MACD turns down",
    )


async def test_a_rule_round_trips_with_every_field_and_its_memory(mongo_db):
    rules = MongoAlertRuleRepository(mongo_db)
    await rules.ensure_indexes()
    rule = full_rule()
    added = await rules.add(rule, 10.0)
    stored = await rules.get(rule.id)
    assert stored == added and stored.rule == rule
    assert (stored.revision, stored.created_at, stored.updated_at, stored.deleted) == (1, 10.0, 10.0, False)
    window = parse_condition({"kind": "percent_change", "percent": -2.5, "window_s": 600})
    pct = AlertRule(id="00000000000000a2", owner="u2", source="tradingview", symbol=BTC, condition=window,
                    memory=AlertMemory(Side.ABOVE, 5.0, 0, None, None, ((100, 1.5, 2.5), (101, 1.25, 3.0))))
    await rules.add(pct, 11.0)
    assert (await rules.get(pct.id)).rule == pct
    assert [s.rule.id for s in await rules.of_owner("u2", limit=10)] == [pct.id]
    assert [s.rule.id for s in await rules.of_owner(None, limit=10)] == [rule.id, pct.id]
    assert {s.rule.id for s in await rules.in_shards([alert_shard(rule.id)])} >= {rule.id}


async def test_a_write_over_a_stale_revision_is_refused_even_when_raced(mongo_db):
    rules = MongoAlertRuleRepository(mongo_db)
    stored = await rules.add(full_rule(), 10.0)
    edits = [stored.rule.revise(note=f"edit {n}") for n in range(6)]
    results = await asyncio.gather(*(rules.save(edit, expected_revision=1, now=20.0) for edit in edits))
    assert sorted(results, key=str) == [2, None, None, None, None, None]
    winner = await rules.get(stored.rule.id)
    assert winner.revision == 2 and winner.rule.note in {edit.note for edit in edits} and winner.updated_at == 20.0
    assert await rules.save(winner.rule.disable(), expected_revision=2, now=None) == 3
    assert (await rules.get(stored.rule.id)).updated_at == 20.0  # an evaluation's write is not the owner's change
    assert await rules.save(winner.rule, expected_revision=2, now=30.0) is None


async def test_triggers_written_with_the_state_wait_in_the_outbox_until_recorded(mongo_db):
    rules = MongoAlertRuleRepository(mongo_db)
    stored = await rules.add(full_rule(), 10.0)
    first, second = trigger(1), trigger(2)
    assert await rules.save(stored.rule, expected_revision=1, now=None, triggers=[first]) == 2
    assert await rules.save(stored.rule, expected_revision=2, now=None, triggers=[second]) == 3
    assert (await rules.get(stored.rule.id)).outbox == (first, second)
    await rules.clear_outbox(stored.rule.id, [1])
    reloaded = await rules.get(stored.rule.id)
    assert reloaded.outbox == (second,) and reloaded.revision == 3


async def test_deleted_rules_are_gone_for_owners_but_seen_by_pollers_until_purged(mongo_db):
    rules = MongoAlertRuleRepository(mongo_db)
    await rules.add(full_rule("00000000000000b1"), 10.0)
    await rules.add(full_rule("00000000000000b2"), 10.0)
    assert await rules.delete("00000000000000b1", now=50.0)
    assert not await rules.delete("00000000000000b1", now=51.0)
    assert await rules.get("00000000000000b1") is None
    assert [s.rule.id for s in await rules.of_owner(None, limit=10)] == ["00000000000000b2"]
    changed = await rules.changed_since(40.0, EVERY_SHARD)
    assert [(s.rule.id, s.deleted) for s in changed] == [("00000000000000b1", True)]
    assert await rules.purge_deleted(before=50.0) == 0 and await rules.purge_deleted(before=60.0) == 1
    assert [s.rule.id for s in await rules.changed_since(0.0, EVERY_SHARD)] == ["00000000000000b2"]


async def test_a_trigger_is_recorded_once_with_every_field_newest_first(mongo_db):
    triggers = MongoAlertTriggerRepository(mongo_db)
    await triggers.ensure_indexes()

    assert await triggers.add(trigger(1)) and await triggers.add(trigger(2))
    assert not await triggers.add(trigger(2))
    assert await triggers.of_rule("r1", limit=10) == [trigger(2), trigger(1)]
    await triggers.remove_rule("r1")
    assert await triggers.of_rule("r1", limit=10) == []
