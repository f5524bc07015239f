"""APScheduler wrapper: named jobs with triggers, run under a cross-worker lock, with the last run,
next run and outcome of each kept for `/api/v1/jobs`."""

import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from src.common.correlation import correlation_scope
from src.common.jobs import Every, JobSpec, Trigger
from src.infrastructure.scheduling.locks import JobLock

log = structlog.get_logger("scheduler")


@dataclass(slots=True)
class JobRun:
    started_at: float
    finished_at: float | None = None
    outcome: str = "running"  # ok | partial | failed | error | skipped
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class _Job:
    name: str
    func: Callable[[], Awaitable[Any]]
    trigger: BaseTrigger
    lock_ttl_s: float
    last_run: JobRun | None = None


class JobScheduler:
    def __init__(self, lock: JobLock) -> None:
        self._lock = lock
        self._owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._jobs: dict[str, _Job] = {}
        self._scheduler: AsyncIOScheduler | None = None

    def add(self, spec: JobSpec, lock_ttl_s: float = 3600) -> None:
        if spec.name in self._jobs:
            raise ValueError(f"a job named {spec.name!r} is already scheduled")
        self._jobs[spec.name] = _Job(spec.name, spec.run, apscheduler_trigger(spec.trigger), lock_ttl_s)

    @property
    def names(self) -> list[str]:
        return list(self._jobs)

    async def start(self) -> None:
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        for job in self._jobs.values():
            self._scheduler.add_job(self.run, job.trigger, args=[job.name], id=job.name, coalesce=True,
                                    max_instances=1, misfire_grace_time=300)
        self._scheduler.start()

    async def stop(self) -> None:
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._scheduler = None

    async def check(self) -> bool:
        return self._scheduler is not None and self._scheduler.running

    async def run(self, name: str) -> JobRun:
        """Run a job now (the scheduler calls this too); skipped when another worker holds its lock."""
        job = self._jobs.get(name)
        if job is None:
            raise KeyError(name)
        run = JobRun(started_at=time.time())
        with correlation_scope(f"job-{name}-{uuid.uuid4().hex[:12]}"):
            if not await self._lock.acquire(f"job:{name}", self._owner, job.lock_ttl_s):
                run.outcome, run.finished_at = "skipped", time.time()
                run.detail = {"reason": "another worker holds the lock"}
                job.last_run = run
                return run
            job.last_run = run
            try:
                summary = await job.func()
                run.outcome = getattr(summary, "outcome", "ok")
                run.detail = _as_detail(summary)
            except Exception as error:
                log.exception("job failed", job=name)
                run.outcome, run.detail = "error", {"error": f"{type(error).__name__}: {error}"}
            finally:
                run.finished_at = time.time()
                await self._lock.release(f"job:{name}", self._owner)
        log.info("job finished", job=name, outcome=run.outcome, seconds=round(run.finished_at - run.started_at, 3))
        return run

    def status(self) -> list[dict[str, Any]]:
        rows = []
        for job in self._jobs.values():
            scheduled = self._scheduler.get_job(job.name) if self._scheduler else None
            next_run: datetime | None = scheduled.next_run_time if scheduled else None
            rows.append(
                {
                    "name": job.name,
                    "trigger": str(job.trigger),
                    "next_run": next_run.timestamp() if next_run else None,
                    "last_run": None if job.last_run is None else {
                        "started_at": job.last_run.started_at,
                        "finished_at": job.last_run.finished_at,
                        "outcome": job.last_run.outcome,
                        "detail": job.last_run.detail,
                    },
                }
            )
        return rows


def apscheduler_trigger(trigger: Trigger) -> BaseTrigger:
    if isinstance(trigger, Every):
        return IntervalTrigger(seconds=trigger.seconds, timezone="UTC")
    return CronTrigger(day_of_week=trigger.day_of_week, hour=trigger.hour, minute=trigger.minute, timezone="UTC")


def _as_detail(summary: Any) -> dict[str, Any]:
    if summary is None:
        return {}
    if hasattr(summary, "__dataclass_fields__"):
        return {name: getattr(summary, name) for name in summary.__dataclass_fields__}
    return {"result": str(summary)}
