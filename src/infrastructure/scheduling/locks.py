"""Job locks so that, with several workers, only one runs a given job at a time. The lock lives in
MongoDB (every deployment has it): an expiring document per job, taken with an atomic upsert."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pymongo.errors import DuplicateKeyError


class JobLock(Protocol):
    async def acquire(self, name: str, owner: str, ttl_s: float) -> bool: ...

    async def release(self, name: str, owner: str) -> None: ...


class MongoJobLock:
    def __init__(self, collection: Any) -> None:
        self._locks = collection

    async def acquire(self, name: str, owner: str, ttl_s: float) -> bool:
        now = datetime.now(UTC)
        try:
            # Matches a free, expired or own lock; a lock held by another worker makes the upsert try to
            # insert a second document with the same _id, which the server refuses.
            await self._locks.update_one(
                {"_id": name, "$or": [{"expires_at": {"$lte": now}}, {"owner": owner}]},
                {"$set": {"owner": owner, "expires_at": now + timedelta(seconds=ttl_s), "taken_at": now}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False
        return True

    async def release(self, name: str, owner: str) -> None:
        await self._locks.delete_one({"_id": name, "owner": owner})


class InProcessJobLock:
    """For a single worker (and tests): a lock per name inside this process."""

    def __init__(self) -> None:
        self._held: dict[str, str] = {}
        self._guard = asyncio.Lock()

    async def acquire(self, name: str, owner: str, ttl_s: float) -> bool:
        async with self._guard:
            if self._held.get(name, owner) != owner:
                return False
            self._held[name] = owner
            return True

    async def release(self, name: str, owner: str) -> None:
        async with self._guard:
            if self._held.get(name) == owner:
                del self._held[name]
