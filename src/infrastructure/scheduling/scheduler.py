"""The job scheduler: named jobs with triggers, each slot run exactly once across every scheduler process
sharing the job store (see `job_store`), with the last run, next run and outcome kept there for
`/api/v1/jobs`.

Each scheduler wakes when the earliest slot is due (and at least every `poll_s`, to see what the others
did), claims the due slots it can and runs them. A slot missed while no scheduler ran is run once on the
next start, then the schedule continues from the present: missed slots are not replayed one by one.
A run holds a lease it renews; when its process dies, the lease expires and the slot is run again.
"""

import asyncio
import contextlib
import math
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from apscheduler.triggers.cron import CronTrigger

from src.common.correlation import correlation_scope
from src.common.jobs import Cron, Every, JobSpec, Trigger
from src.infrastructure.scheduling.job_store import JobRun, JobState, JobStore

log = structlog.get_logger("scheduler")
MIN_WAIT_S = 0.01


@dataclass(frozen=True, slots=True)
class _Job:
    name: str
    func: Callable[[], Awaitable[Any]]
    trigger: Trigger

    def first_slot(self, now: float) -> float:
        if isinstance(self.trigger, Every):
            return now + self.trigger.seconds
        return _next_fire(self.trigger, now)

    def slot_after(self, slot: float, now: float) -> float:
        """The first slot later than both `slot` and `now`: the slots missed meanwhile are skipped."""
        if isinstance(self.trigger, Every):
            period = self.trigger.seconds
            return slot + period * (math.floor(max(0.0, now - slot) / period) + 1)
        return _next_fire(self.trigger, max(slot, now))


class JobScheduler:
    def __init__(self, store: JobStore, *, lease_s: float = 60.0, poll_s: float = 5.0,
                 clock: Callable[[], float] = time.time,
                 on_run: Callable[[str, str], None] | None = None) -> None:
        self._store = store
        self._on_run = on_run  # (job, outcome) of each run this process finished
        self._lease_s = lease_s
        self._poll_s = poll_s
        self._clock = clock
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._jobs: dict[str, _Job] = {}
        self._loop_task: asyncio.Task[None] | None = None
        self._running: dict[str, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()

    def add(self, spec: JobSpec) -> None:
        if spec.name in self._jobs:
            raise ValueError(f"a job named {spec.name!r} is already scheduled")
        self._jobs[spec.name] = _Job(spec.name, spec.run, spec.trigger)

    @property
    def names(self) -> list[str]:
        return list(self._jobs)

    async def start(self) -> None:
        for job in self._jobs.values():
            await self._register(job)
        self._loop_task = asyncio.create_task(self._loop(), name="scheduler")

    async def stop(self) -> None:
        """Stops waking; runs in progress are cancelled and recorded as interrupted (their slot stays due)."""
        tasks = [t for t in (self._loop_task, *self._running.values()) if t is not None]
        self._loop_task = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def check(self) -> bool:
        return self._loop_task is not None and not self._loop_task.done()

    async def run(self, name: str) -> JobRun:
        """Run a job now, on demand; skipped while a run of it (here or in another process) holds its lease.
        The schedule is left as it is."""
        if name not in self._jobs:
            raise KeyError(name)
        job = self._jobs[name]
        await self._register(job)  # a process without the scheduler role may run jobs on demand
        return await self._execute(job, slot=None)

    async def status(self) -> list[dict[str, Any]]:
        states = await self._store.states(self.names)
        now = self._clock()
        return [_row(job, states.get(job.name), now) for job in self._jobs.values()]

    async def _register(self, job: _Job) -> None:
        await self._store.register(job.name, describe(job.trigger), job.first_slot(self._clock()))

    # --- the loop -----------------------------------------------------------------------------------

    async def _loop(self) -> None:
        while True:
            wait_s = self._poll_s
            self._wake.clear()
            try:
                wait_s = self._start_due(await self._store.states(self.names))
            except Exception:
                log.exception("scheduler could not read the job states")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait_s)

    def _start_due(self, states: dict[str, JobState]) -> float:
        """Starts a run of every due slot not held by a lease; returns how long to sleep."""
        now, wake_at = self._clock(), self._clock() + self._poll_s
        for name, state in states.items():
            if state.next_run > now:
                wake_at = min(wake_at, state.next_run)
            elif name not in self._running and not state.running(now):
                task = asyncio.create_task(self._run_slot(self._jobs[name], state.next_run), name=f"job {name}")
                self._running[name] = task
                task.add_done_callback(lambda _, name=name: self._finished(name))  # type: ignore[misc]
        return max(MIN_WAIT_S, wake_at - now)

    def _finished(self, name: str) -> None:
        self._running.pop(name, None)
        self._wake.set()  # its next slot may be due sooner than the next poll

    async def _run_slot(self, job: _Job, slot: float) -> None:
        try:
            await self._execute(job, slot)
        except Exception:  # the store failed: the slot stays due, or its lease expires, and is run again
            log.exception("scheduled run could not be claimed or recorded", job=job.name)

    async def _execute(self, job: _Job, slot: float | None) -> JobRun:
        run = JobRun(started_at=self._clock(), slot=slot, owner=self.owner)
        if not await self._store.claim(job.name, self.owner, now=run.started_at, lease_s=self._lease_s, slot=slot):
            run.outcome, run.finished_at = "skipped", self._clock()
            run.detail = {"reason": "another run of this job holds it"}
            return run
        label = "now" if slot is None else f"{slot:.3f}"
        with correlation_scope(f"job-{job.name}-{label}-{uuid.uuid4().hex[:8]}"):
            renewing = asyncio.create_task(self._renew(job.name))
            try:
                summary = await job.func()
                run.outcome, run.detail = getattr(summary, "outcome", "ok"), _as_detail(summary)
            except asyncio.CancelledError:
                run.outcome = "interrupted"
                raise
            except Exception as error:
                log.exception("job failed", job=job.name)
                run.outcome, run.detail = "error", {"error": f"{type(error).__name__}: {error}"}
            finally:
                renewing.cancel()
                run.finished_at = self._clock()
                next_run = None if slot is None or run.outcome == "interrupted" else \
                    job.slot_after(slot, run.finished_at)
                if self._on_run is not None:
                    self._on_run(job.name, run.outcome)
                await asyncio.shield(self._store.finish(job.name, self.owner, run, next_run))
        log.info("job finished", job=job.name, outcome=run.outcome, seconds=round(run.finished_at - run.started_at, 3))
        return run

    async def _renew(self, name: str) -> None:
        while True:
            await asyncio.sleep(self._lease_s / 3)
            with contextlib.suppress(Exception):  # a missed renewal is retried; the lease outlasts two
                if not await self._store.renew(name, self.owner, self._clock() + self._lease_s):
                    log.warning("job lease lost to another process", job=name)
                    return


def describe(trigger: Trigger) -> str:
    if isinstance(trigger, Every):
        return f"every {trigger.seconds:g}s"
    return f"cron[day_of_week={trigger.day_of_week}, hour={trigger.hour}, minute={trigger.minute}] UTC"


def _next_fire(trigger: Cron, after: float) -> float:
    cron = CronTrigger(day_of_week=trigger.day_of_week, hour=trigger.hour, minute=trigger.minute, timezone="UTC")
    # Cron fires on whole seconds: the first one strictly after `after`.
    fire: datetime | None = cron.get_next_fire_time(None, datetime.fromtimestamp(math.floor(after) + 1, UTC))
    assert fire is not None
    return fire.timestamp()


def _row(job: _Job, state: JobState | None, now: float) -> dict[str, Any]:
    last = state.last_run if state else None
    return {
        "name": job.name,
        "trigger": describe(job.trigger),
        "next_run": state.next_run if state else None,
        "running": bool(state and state.running(now)),
        "last_run": None if last is None else {
            "started_at": last.started_at, "finished_at": last.finished_at, "outcome": last.outcome,
            "detail": last.detail,
        },
    }


def _as_detail(summary: Any) -> dict[str, Any]:
    if summary is None:
        return {}
    if hasattr(summary, "__dataclass_fields__"):
        return {name: _plain(getattr(summary, name)) for name in summary.__dataclass_fields__}
    return {"result": str(summary)}


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
