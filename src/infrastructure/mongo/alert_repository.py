"""Alert rules (`alert_rules`, one document per rule) and their trigger history (`alert_triggers`, one
document per trigger) in MongoDB.

A rule's document holds its settings, its state (`status`, `memory`: what it remembers between
evaluations, so a restart continues where it stopped), its evaluation `shard`, a `revision` that every
write increments (writes are filtered on the revision read: an evaluator and an owner's edit never
overwrite each other), `updated_at`, moved only by its owner's changes, which evaluators in other
processes poll for, and an `outbox`: the triggers written in the same atomic write as the state that fired
them, until they are recorded in the history. Deleting marks the document `deleted` (so they see it go)
and a later purge removes it. A trigger's `_id` is `<rule id>:<trigger count>`: recording one twice is a no-op.
"""

from collections.abc import Iterable, Sequence
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from src.common.ports import StoredAlertRule, alert_shard
from src.domain.alerts import AlertMemory, AlertRule, AlertStatus, AlertTriggeredEvent, parse_condition
from src.domain.market_data import Interval, Symbol
from src.infrastructure.mongo.connection import translate_errors

ALERT_RULES = "alert_rules"
ALERT_TRIGGERS = "alert_triggers"
_LIVE: dict[str, Any] = {"deleted": {"$ne": True}}


class MongoAlertRuleRepository:
    def __init__(self, database: AsyncDatabase[dict[str, Any]]) -> None:
        self._rules = database[ALERT_RULES]

    @translate_errors
    async def ensure_indexes(self) -> None:
        await self._rules.create_index([("owner", ASCENDING), ("created_at", ASCENDING)], name="owner_created")
        await self._rules.create_index([("shard", ASCENDING), ("updated_at", ASCENDING)], name="shard_updated")

    @translate_errors
    async def add(self, rule: AlertRule, now: float) -> StoredAlertRule:
        doc = {**rule_doc(rule), "revision": 1, "created_at": now, "updated_at": now}
        await self._rules.insert_one(doc)
        return StoredAlertRule(rule, 1, now, now)

    @translate_errors
    async def get(self, rule_id: str) -> StoredAlertRule | None:
        doc = await self._rules.find_one({"_id": rule_id, **_LIVE})
        return None if doc is None else stored_rule(doc)

    @translate_errors
    async def of_owner(self, owner: str | None, *, limit: int) -> list[StoredAlertRule]:
        where = _LIVE if owner is None else {"owner": owner, **_LIVE}
        cursor = self._rules.find(where).sort([("created_at", ASCENDING), ("_id", ASCENDING)]).limit(limit)
        return [stored_rule(doc) async for doc in cursor]

    @translate_errors
    async def save(self, rule: AlertRule, *, expected_revision: int, now: float | None,
                   triggers: Sequence[AlertTriggeredEvent] = ()) -> int | None:
        changes: dict[str, Any] = {**rule_doc(rule), "revision": expected_revision + 1}
        del changes["_id"]
        if now is not None:
            changes["updated_at"] = now
        update: dict[str, Any] = {"$set": changes}
        if triggers:
            update["$push"] = {"outbox": {"$each": [trigger_doc(event) for event in triggers]}}
        result = await self._rules.update_one({"_id": rule.id, "revision": expected_revision, **_LIVE}, update)
        return expected_revision + 1 if result.matched_count == 1 else None

    @translate_errors
    async def clear_outbox(self, rule_id: str, trigger_counts: Sequence[int]) -> None:
        await self._rules.update_one({"_id": rule_id},
                                     {"$pull": {"outbox": {"trigger_count": {"$in": list(trigger_counts)}}}})

    @translate_errors
    async def delete(self, rule_id: str, *, now: float) -> bool:
        result = await self._rules.update_one(
            {"_id": rule_id, **_LIVE}, {"$set": {"deleted": True, "updated_at": now}, "$inc": {"revision": 1}})
        return result.matched_count == 1

    @translate_errors
    async def in_shards(self, shards: Iterable[int]) -> list[StoredAlertRule]:
        cursor = self._rules.find({"shard": {"$in": list(shards)}, **_LIVE})
        return [stored_rule(doc) async for doc in cursor]

    @translate_errors
    async def changed_since(self, since: float, shards: Iterable[int]) -> list[StoredAlertRule]:
        cursor = self._rules.find({"shard": {"$in": list(shards)}, "updated_at": {"$gte": since}})
        return [stored_rule(doc) async for doc in cursor]

    @translate_errors
    async def purge_deleted(self, before: float) -> int:
        result = await self._rules.delete_many({"deleted": True, "updated_at": {"$lt": before}})
        return result.deleted_count


class MongoAlertTriggerRepository:
    def __init__(self, database: AsyncDatabase[dict[str, Any]]) -> None:
        self._triggers = database[ALERT_TRIGGERS]

    @translate_errors
    async def ensure_indexes(self) -> None:
        await self._triggers.create_index([("rule_id", ASCENDING), ("trigger_count", DESCENDING)], name="rule_count")

    @translate_errors
    async def add(self, event: AlertTriggeredEvent) -> bool:
        try:
            await self._triggers.insert_one(trigger_doc(event))
        except DuplicateKeyError:
            return False
        return True

    @translate_errors
    async def of_rule(self, rule_id: str, *, limit: int) -> list[AlertTriggeredEvent]:
        cursor = self._triggers.find({"rule_id": rule_id}).sort("trigger_count", DESCENDING).limit(limit)
        return [trigger_event(doc) async for doc in cursor]

    @translate_errors
    async def remove_rule(self, rule_id: str) -> None:
        await self._triggers.delete_many({"rule_id": rule_id})


# --- documents -----------------------------------------------------------------------------------------


def rule_doc(rule: AlertRule) -> dict[str, Any]:
    return {
        "_id": rule.id,
        "owner": rule.owner,
        "source": rule.source,
        "symbol": rule.symbol.ticker,
        "interval": None if rule.interval is None else rule.interval.code,
        "condition": rule.condition.to_dict(),
        "cooldown_s": rule.cooldown_s,
        "one_time": rule.one_time,
        "expires_at": rule.expires_at,
        "channels": list(rule.channels),
        "note": rule.note,
        "status": str(rule.status),
        "memory": rule.memory.to_dict(),
        "shard": alert_shard(rule.id),
    }


def stored_rule(doc: dict[str, Any]) -> StoredAlertRule:
    rule = AlertRule(
        id=doc["_id"], owner=doc["owner"], source=doc["source"], symbol=Symbol.parse(doc["symbol"]),
        condition=parse_condition(doc["condition"]),
        interval=None if doc.get("interval") is None else Interval.parse(doc["interval"]),
        cooldown_s=doc["cooldown_s"], one_time=doc["one_time"], expires_at=doc.get("expires_at"),
        channels=tuple(doc["channels"]), note=doc["note"], status=AlertStatus(doc["status"]),
        memory=AlertMemory.from_dict(doc["memory"]),
    )
    outbox = tuple(trigger_event(trigger) for trigger in doc.get("outbox", ()))
    return StoredAlertRule(rule, doc["revision"], doc["created_at"], doc["updated_at"], bool(doc.get("deleted")),
                           outbox)


def trigger_doc(event: AlertTriggeredEvent) -> dict[str, Any]:
    return {
        "_id": f"{event.rule_id}:{event.trigger_count}",
        "rule_id": event.rule_id,
        "owner": event.owner,
        "source": event.source,
        "symbol": event.symbol.ticker,
        "interval": None if event.interval is None else event.interval.code,
        "condition_kind": event.condition_kind,
        "condition": dict(event.condition),
        "values": dict(event.values),
        "triggered_at": event.triggered_at,
        "evaluated_at": event.occurred_at,
        "late": event.late,
        "bar_time": event.bar_time,
        "trigger_count": event.trigger_count,
        "channels": list(event.channels),
        "note": event.note,
        "correlation_id": event.correlation_id,
    }


def trigger_event(doc: dict[str, Any]) -> AlertTriggeredEvent:
    return AlertTriggeredEvent(
        occurred_at=doc["evaluated_at"], correlation_id=doc.get("correlation_id"), rule_id=doc["rule_id"],
        owner=doc["owner"], source=doc["source"], symbol=Symbol.parse(doc["symbol"]),
        interval=None if doc.get("interval") is None else Interval.parse(doc["interval"]),
        condition_kind=doc["condition_kind"], condition=doc["condition"], values=doc["values"],
        triggered_at=doc["triggered_at"], late=doc["late"], bar_time=doc.get("bar_time"),
        trigger_count=doc["trigger_count"], channels=tuple(doc["channels"]), note=doc["note"],
    )
