"""Webhook deliveries that failed for good, kept in MongoDB so they survive restarts and can be
inspected or replayed (`GET /api/v1/webhooks/dead-letters`)."""

from typing import Any

from bson import Binary
from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from src.common.ports import DeadLetter
from src.infrastructure.mongo.connection import translate_errors


class MongoDeadLetterStore:
    def __init__(self, database: AsyncDatabase[dict[str, Any]]) -> None:
        self._letters = database["webhook_dead_letters"]

    @translate_errors
    async def ensure_indexes(self) -> None:
        await self._letters.create_index([("failed_at", DESCENDING)], name="failed_at_desc")

    @translate_errors
    async def add(self, letter: DeadLetter) -> None:
        await self._letters.replace_one({"_id": letter.delivery_id}, _to_doc(letter), upsert=True)

    @translate_errors
    async def list(self, limit: int = 100) -> list[DeadLetter]:
        cursor = self._letters.find({}).sort("failed_at", DESCENDING).limit(limit)
        return [_from_doc(doc) async for doc in cursor]

    @translate_errors
    async def get(self, delivery_id: str) -> DeadLetter | None:
        doc = await self._letters.find_one({"_id": delivery_id})
        return None if doc is None else _from_doc(doc)

    @translate_errors
    async def remove(self, letter: DeadLetter) -> None:
        await self._letters.delete_one({"_id": letter.delivery_id, "failed_at": letter.failed_at})


def _to_doc(letter: DeadLetter) -> dict[str, Any]:
    return {
        "_id": letter.delivery_id,
        "url": letter.url,
        "event_type": letter.event_type,
        "body": Binary(letter.body),
        "attempts": letter.attempts,
        "error": letter.error,
        "correlation_id": letter.correlation_id,
        "failed_at": letter.failed_at,
    }


def _from_doc(doc: dict[str, Any]) -> DeadLetter:
    return DeadLetter(
        delivery_id=doc["_id"],
        url=doc["url"],
        event_type=doc["event_type"],
        body=bytes(doc["body"]),
        attempts=doc["attempts"],
        error=doc["error"],
        correlation_id=doc.get("correlation_id"),
        failed_at=doc["failed_at"],
    )
