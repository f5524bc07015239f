"""The webhook outbox in MongoDB: one document per delivery to one URL, written before the first attempt,
so deliveries pending when a process dies are attempted again by whichever process runs next."""

import uuid
from collections.abc import Sequence
from typing import Any

from bson import Binary
from pymongo import ASCENDING, ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase

from src.common.ports import OutboxDelivery
from src.infrastructure.mongo.connection import translate_errors


class MongoWebhookOutbox:
    def __init__(self, database: AsyncDatabase[dict[str, Any]]) -> None:
        self._deliveries = database["webhook_outbox"]

    @translate_errors
    async def ensure_indexes(self) -> None:
        await self._deliveries.create_index([("next_attempt_at", ASCENDING)], name="next_attempt_at")

    @translate_errors
    async def add(self, deliveries: Sequence[OutboxDelivery]) -> None:
        # Replaced, not inserted: a redelivered dead letter keeps its id. One round trip for an event's URLs.
        await self._deliveries.bulk_write(
            [ReplaceOne({"_id": d.delivery_id}, _to_doc(d), upsert=True) for d in deliveries], ordered=False)

    @translate_errors
    async def claim_due(self, owner: str, now: float, lease_s: float, limit: int) -> list[OutboxDelivery]:
        due = {"next_attempt_at": {"$lte": now}, "lease_until": {"$lte": now}}
        ids = [doc["_id"] async for doc in
               self._deliveries.find(due, {"_id": 1}).sort("next_attempt_at", ASCENDING).limit(limit)]
        if not ids:
            return []
        # Each document is taken atomically, by one claimer only; the claim id finds what this claim got.
        claim = uuid.uuid4().hex
        await self._deliveries.update_many({**due, "_id": {"$in": ids}},
                                           {"$set": {"owner": owner, "lease_until": now + lease_s, "claim": claim}})
        claimed = self._deliveries.find({"_id": {"$in": ids}, "claim": claim}).sort("next_attempt_at", ASCENDING)
        return [_from_doc(doc) async for doc in claimed]

    @translate_errors
    async def retry_later(self, delivery: OutboxDelivery, owner: str) -> None:
        await self._deliveries.update_one(
            {"_id": delivery.delivery_id, "owner": owner},
            {"$set": {"attempts": delivery.attempts, "last_error": delivery.last_error,
                      "next_attempt_at": delivery.next_attempt_at, "owner": None, "lease_until": 0.0}},
        )

    @translate_errors
    async def remove(self, delivery_id: str) -> None:
        await self._deliveries.delete_one({"_id": delivery_id})

    @translate_errors
    async def release(self, owner: str) -> None:
        await self._deliveries.update_many({"owner": owner}, {"$set": {"owner": None, "lease_until": 0.0}})

    @translate_errors
    async def pending(self) -> int:
        return await self._deliveries.count_documents({})


def _to_doc(delivery: OutboxDelivery) -> dict[str, Any]:
    return {
        "_id": delivery.delivery_id, "url": delivery.url, "event_type": delivery.event_type,
        "body": Binary(delivery.body), "correlation_id": delivery.correlation_id, "created_at": delivery.created_at,
        "next_attempt_at": delivery.next_attempt_at, "attempts": delivery.attempts, "last_error": delivery.last_error,
        "owner": None, "lease_until": 0.0,
    }


def _from_doc(doc: dict[str, Any]) -> OutboxDelivery:
    return OutboxDelivery(
        delivery_id=doc["_id"], url=doc["url"], event_type=doc["event_type"], body=bytes(doc["body"]),
        correlation_id=doc.get("correlation_id"), created_at=doc["created_at"],
        next_attempt_at=doc["next_attempt_at"], attempts=doc["attempts"], last_error=doc.get("last_error"),
    )
