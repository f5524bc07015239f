import asyncio

from src.common.jobs import Cron, Every, JobSpec
from src.infrastructure.scheduling.locks import InProcessJobLock, MongoJobLock
from src.infrastructure.scheduling.scheduler import JobScheduler


async def test_a_scheduled_job_fires_by_itself_and_records_its_run():
    fired = asyncio.Event()

    async def job():
        fired.set()

    scheduler = JobScheduler(InProcessJobLock())
    scheduler.add(JobSpec("tick", Every(0.2), job))
    await scheduler.start()
    try:
        await asyncio.wait_for(fired.wait(), timeout=5)
        await asyncio.sleep(0.05)
        [row] = scheduler.status()
        assert row["name"] == "tick" and row["next_run"] is not None
        assert row["last_run"]["outcome"] == "ok"
    finally:
        await scheduler.stop()
    assert not await scheduler.check()


async def test_only_one_worker_runs_a_job_at_a_time_through_the_mongo_lock(mongo_db):
    lock = MongoJobLock(mongo_db["job_locks"])
    release = asyncio.Event()
    runs = []

    async def slow_job():
        runs.append("ran")
        await release.wait()

    worker_a, worker_b = JobScheduler(lock), JobScheduler(lock)
    for worker in (worker_a, worker_b):
        worker.add(JobSpec("sync_all_symbols", Every(6 * 3600), slow_job))
    first = asyncio.create_task(worker_a.run("sync_all_symbols"))
    await asyncio.sleep(0.2)
    second = await worker_b.run("sync_all_symbols")
    assert second.outcome == "skipped"
    release.set()
    assert (await first).outcome == "ok"
    assert runs == ["ran"]
    assert (await worker_b.run("sync_all_symbols")).outcome == "ok"  # released after the first finished


async def test_an_expired_lock_can_be_taken_over(mongo_db):
    lock = MongoJobLock(mongo_db["job_locks"])
    assert await lock.acquire("job:x", "crashed-worker", ttl_s=0.01)
    await asyncio.sleep(0.05)
    assert await lock.acquire("job:x", "other", ttl_s=60)
    assert not await lock.acquire("job:x", "crashed-worker", ttl_s=60)


async def test_a_failing_job_is_recorded_as_error_and_releases_its_lock():
    async def broken():
        raise RuntimeError("upstream exploded")

    scheduler = JobScheduler(InProcessJobLock())
    scheduler.add(JobSpec("broken", Cron(hour="*", minute="0"), broken))
    run = await scheduler.run("broken")
    assert run.outcome == "error" and "upstream exploded" in run.detail["error"]
    assert (await scheduler.run("broken")).outcome == "error"  # not "skipped": the lock was released


def test_a_job_name_is_scheduled_once():
    import pytest

    async def job():
        return None

    scheduler = JobScheduler(InProcessJobLock())
    scheduler.add(JobSpec("once", Every(60), job))
    with pytest.raises(ValueError, match="already scheduled"):
        scheduler.add(JobSpec("once", Every(60), job))
