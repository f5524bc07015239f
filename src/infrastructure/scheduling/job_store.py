"""Where scheduled jobs keep their state, shared by every scheduler process: one document per job with the
slot due next (`next_run`), the last run, and the lease of the process running it now.

A slot is claimed with a compare-and-set on that one document (its `next_run` still the slot, no live
lease), so of several schedulers exactly one runs it. The run advances `next_run` only when it finishes;
a process that dies mid-run leaves its lease to expire, and another (or the restarted one) runs the slot.
"""

import asyncio
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from pymongo.errors import DuplicateKeyError

from src.infrastructure.mongo.connection import translate_errors


@dataclass(slots=True)
class JobRun:
    started_at: float
    finished_at: float | None = None
    outcome: str = "running"  # ok | partial | failed | error | skipped | interrupted
    detail: dict[str, Any] = field(default_factory=dict)
    slot: float | None = None  # the scheduled time it ran for; None: run on demand
    owner: str | None = None  # the process that ran it


@dataclass(frozen=True, slots=True)
class JobState:
    name: str
    trigger: str
    next_run: float  # epoch seconds of the slot due next
    last_run: JobRun | None = None
    owner: str | None = None  # the process running it now, while `lease_until` is ahead
    lease_until: float = 0.0

    def running(self, now: float) -> bool:
        return self.lease_until > now


class JobStore(Protocol):
    async def register(self, name: str, trigger: str, first_run: float) -> None:
        """Create the job's state once; a changed trigger restarts its schedule at `first_run`."""
        ...

    async def states(self, names: list[str]) -> dict[str, JobState]: ...

    async def claim(self, name: str, owner: str, *, now: float, lease_s: float, slot: float | None) -> bool:
        """Take the job's lease if nobody holds it (and, for a slot, if that slot is still due next)."""
        ...

    async def renew(self, name: str, owner: str, until: float) -> bool: ...

    async def finish(self, name: str, owner: str, run: JobRun, next_run: float | None) -> None:
        """Record the run, release the lease and, with `next_run`, move the schedule on."""
        ...


class MongoJobStore:
    def __init__(self, collection: Any) -> None:
        self._jobs = collection

    @translate_errors
    async def register(self, name: str, trigger: str, first_run: float) -> None:
        fresh = {"next_run": first_run, "lease_until": 0.0, "owner": None, "last_run": None}
        try:
            # Matches only a state of the same trigger; otherwise inserts, or collides with the old trigger's.
            await self._jobs.update_one({"_id": name, "trigger": trigger}, {"$setOnInsert": fresh}, upsert=True)
        except DuplicateKeyError:
            await self._jobs.update_one({"_id": name}, {"$set": {"trigger": trigger, "next_run": first_run}})

    @translate_errors
    async def states(self, names: list[str]) -> dict[str, JobState]:
        return {doc["_id"]: _state(doc) async for doc in self._jobs.find({"_id": {"$in": names}})}

    @translate_errors
    async def claim(self, name: str, owner: str, *, now: float, lease_s: float, slot: float | None) -> bool:
        free: dict[str, Any] = {"_id": name, "lease_until": {"$lte": now}}
        if slot is not None:
            free["next_run"] = slot
        taken = await self._jobs.update_one(free, {"$set": {"owner": owner, "lease_until": now + lease_s}})
        return bool(taken.modified_count)

    @translate_errors
    async def renew(self, name: str, owner: str, until: float) -> bool:
        renewed = await self._jobs.update_one({"_id": name, "owner": owner}, {"$set": {"lease_until": until}})
        return bool(renewed.matched_count)

    @translate_errors
    async def finish(self, name: str, owner: str, run: JobRun, next_run: float | None) -> None:
        done: dict[str, Any] = {"last_run": _run_doc(run), "owner": None, "lease_until": 0.0}
        if next_run is not None:
            done["next_run"] = next_run
        await self._jobs.update_one({"_id": name, "owner": owner}, {"$set": done})


class InProcessJobStore:
    """For a single process (and tests): the same rules over a dict."""

    def __init__(self) -> None:
        self._states: dict[str, JobState] = {}
        self._guard = asyncio.Lock()

    async def register(self, name: str, trigger: str, first_run: float) -> None:
        async with self._guard:
            state = self._states.get(name)
            if state is None or state.trigger != trigger:
                self._states[name] = JobState(name, trigger, first_run, state.last_run if state else None)

    async def states(self, names: list[str]) -> dict[str, JobState]:
        return {name: self._states[name] for name in names if name in self._states}

    async def claim(self, name: str, owner: str, *, now: float, lease_s: float, slot: float | None) -> bool:
        async with self._guard:
            state = self._states.get(name)
            if state is None or state.running(now) or (slot is not None and state.next_run != slot):
                return False
            self._states[name] = replace(state, owner=owner, lease_until=now + lease_s)
            return True

    async def renew(self, name: str, owner: str, until: float) -> bool:
        async with self._guard:
            state = self._states.get(name)
            if state is None or state.owner != owner:
                return False
            self._states[name] = replace(state, lease_until=until)
            return True

    async def finish(self, name: str, owner: str, run: JobRun, next_run: float | None) -> None:
        async with self._guard:
            state = self._states.get(name)
            if state is not None and state.owner == owner:
                self._states[name] = replace(state, last_run=run, owner=None, lease_until=0.0,
                                             next_run=state.next_run if next_run is None else next_run)


def _run_doc(run: JobRun) -> dict[str, Any]:
    return {"started_at": run.started_at, "finished_at": run.finished_at, "outcome": run.outcome,
            "detail": run.detail, "slot": run.slot, "owner": run.owner}


def _state(doc: dict[str, Any]) -> JobState:
    last = doc.get("last_run")
    return JobState(doc["_id"], doc.get("trigger", ""), doc["next_run"], JobRun(**last) if last else None,
                    doc.get("owner"), doc.get("lease_until", 0.0))
