"""The scheduler against the shared job store: a slot runs once across schedulers, state survives restarts."""

import asyncio
import time

import pytest

from src.common.correlation import get_correlation_id
from src.common.jobs import Cron, Every, JobSpec
from src.infrastructure.scheduling.job_store import InProcessJobStore, MongoJobStore
from src.infrastructure.scheduling.scheduler import JobScheduler


async def until(predicate, within: float = 5.0, step: float = 0.02) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(step)


async def test_a_scheduled_job_fires_by_itself_and_records_its_run():
    fired = asyncio.Event()

    async def job():
        fired.set()

    scheduler = JobScheduler(InProcessJobStore())
    scheduler.add(JobSpec("tick", Every(0.2), job))
    await scheduler.start()
    try:
        await asyncio.wait_for(fired.wait(), timeout=5)
        await asyncio.sleep(0.05)
        [row] = await scheduler.status()
        assert row["name"] == "tick" and row["next_run"] > time.time() - 0.2 and row["trigger"] == "every 0.2s"
        assert row["last_run"]["outcome"] == "ok"
    finally:
        await scheduler.stop()
    assert not await scheduler.check()


async def test_two_schedulers_on_one_store_run_each_slot_once(mongo_db):
    store = MongoJobStore(mongo_db["scheduled_jobs"])
    runs: list[tuple[str, str]] = []

    def job_of(worker: str):
        async def job():
            runs.append((worker, get_correlation_id().split("-")[2]))  # job-<name>-<slot>-<random>
            await asyncio.sleep(0.05)  # both schedulers wake for the slot while this one holds it
        return job

    workers = [JobScheduler(store, poll_s=0.1) for _ in range(2)]
    for worker, scheduler in zip("ab", workers, strict=True):
        scheduler.add(JobSpec("tick", Every(0.3), job_of(worker)))
        await scheduler.start()
    started = time.time()
    await asyncio.sleep(2.05)
    for scheduler in workers:
        await scheduler.stop()
    slots = int((time.time() - started) / 0.3)
    assert slots // 2 <= len(runs) <= slots  # never more runs than slots (a late slot may be coalesced)
    assert len({slot for _, slot in runs}) == len(runs)
    state = (await store.states(["tick"]))["tick"]
    assert state.last_run is not None and state.last_run.outcome == "ok" and not state.running(time.time())


async def test_a_manual_run_is_skipped_while_another_scheduler_runs_the_job(mongo_db):
    store = MongoJobStore(mongo_db["scheduled_jobs"])
    release = asyncio.Event()
    runs = []

    async def slow_job():
        runs.append("ran")
        await release.wait()

    worker_a, worker_b = JobScheduler(store), JobScheduler(store)
    for worker in (worker_a, worker_b):
        worker.add(JobSpec("sync_all_symbols", Every(6 * 3600), slow_job))
        await store.register("sync_all_symbols", "every 21600s", time.time() + 6 * 3600)
    first = asyncio.create_task(worker_a.run("sync_all_symbols"))
    await asyncio.sleep(0.2)
    second = await worker_b.run("sync_all_symbols")
    assert second.outcome == "skipped"
    [row] = await worker_b.status()
    assert row["running"] is True
    release.set()
    assert (await first).outcome == "ok"
    assert runs == ["ran"]
    assert (await worker_b.run("sync_all_symbols")).outcome == "ok"  # released after the first finished


async def test_a_restart_runs_an_overdue_job_at_once_and_once(mongo_db):
    store = MongoJobStore(mongo_db["scheduled_jobs"])
    runs: list[float] = []

    async def job():
        runs.append(time.time())

    before = JobScheduler(store, poll_s=0.1)
    before.add(JobSpec("six_hourly", Every(1.0), job))
    await before.start()
    await until(lambda: len(runs) == 1, within=3)
    await before.stop()
    [row] = await before.status()
    next_run = row["next_run"]
    await asyncio.sleep(next_run - time.time() + 1.6)  # down for this slot and the one after it

    after = JobScheduler(store, poll_s=0.1)  # a new process: nothing of the old one but the store
    after.add(JobSpec("six_hourly", Every(1.0), job))
    [row] = await after.status()
    assert row["last_run"]["outcome"] == "ok" and row["next_run"] == next_run
    restarted = time.time()
    await after.start()
    await until(lambda: len(runs) == 2, within=1)
    assert runs[1] - restarted < 0.5  # not postponed by a period (1 s)
    await asyncio.sleep(0.2)
    await after.stop()
    assert len(runs) == 2  # the missed slots are run once, not replayed
    [row] = await after.status()
    assert runs[1] < row["next_run"] <= runs[1] + 1.0


async def test_a_changed_trigger_restarts_the_schedule(mongo_db):
    store = MongoJobStore(mongo_db["scheduled_jobs"])
    await store.register("job", "every 3600s", time.time() + 3600)
    await store.register("job", "every 60s", time.time() + 60)
    assert (await store.states(["job"]))["job"].next_run < time.time() + 61
    await store.register("job", "every 60s", time.time() + 30)  # the same trigger keeps its schedule
    assert (await store.states(["job"]))["job"].next_run > time.time() + 50


async def test_a_failing_job_is_recorded_as_error_and_releases_the_job():
    async def broken():
        raise RuntimeError("upstream exploded")

    scheduler = JobScheduler(InProcessJobStore())
    scheduler.add(JobSpec("broken", Cron(hour="*", minute="0"), broken))
    await scheduler.start()
    run = await scheduler.run("broken")
    assert run.outcome == "error" and "upstream exploded" in run.detail["error"]
    assert (await scheduler.run("broken")).outcome == "error"  # not "skipped": the lease was released
    [row] = await scheduler.status()
    assert row["last_run"]["outcome"] == "error"
    assert row["next_run"] % 3600 == 0 and row["next_run"] > time.time()  # the next full hour
    await scheduler.stop()


async def test_stopping_interrupts_a_run_and_leaves_its_slot_due():
    store = InProcessJobStore()
    started = asyncio.Event()

    async def endless():
        started.set()
        await asyncio.Event().wait()

    scheduler = JobScheduler(store, poll_s=0.05)
    scheduler.add(JobSpec("endless", Every(0.1), endless))
    await scheduler.start()
    await asyncio.wait_for(started.wait(), 3)
    slot = (await store.states(["endless"]))["endless"].next_run
    await scheduler.stop()
    state = (await store.states(["endless"]))["endless"]
    assert state.last_run is not None and state.last_run.outcome == "interrupted"
    assert state.next_run == slot and not state.running(time.time())


def test_a_job_name_is_scheduled_once():
    async def job():
        return None

    scheduler = JobScheduler(InProcessJobStore())
    scheduler.add(JobSpec("once", Every(60), job))
    with pytest.raises(ValueError, match="already scheduled"):
        scheduler.add(JobSpec("once", Every(60), job))
