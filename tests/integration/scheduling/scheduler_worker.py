"""A scheduler process for the exactly-once tests: `python -m tests.integration.scheduling.scheduler_worker
MONGO_URI DATABASE PERIOD_S [hang]` schedules one job every PERIOD_S against the shared job store. Each run
records the slot it ran for (from its correlation id) and this process's id in `runs`; with `hang`, a run
records itself and then never ends (to be killed mid-run)."""

import asyncio
import os
import sys
import time

from pymongo import AsyncMongoClient

from src.common.correlation import get_correlation_id
from src.common.jobs import Every, JobSpec
from src.infrastructure.scheduling.job_store import MongoJobStore
from src.infrastructure.scheduling.scheduler import JobScheduler


async def main(uri: str, database: str, period_s: float, hang: bool) -> None:
    client: AsyncMongoClient = AsyncMongoClient(uri)
    db = client[database]

    async def job() -> None:
        slot = (get_correlation_id() or "").split("-")[2]  # job-<name>-<slot>-<random>
        await db["runs"].insert_one({"slot": slot, "pid": os.getpid(), "at": time.time()})
        if hang:
            await asyncio.Event().wait()

    scheduler = JobScheduler(MongoJobStore(db["scheduled_jobs"]), lease_s=1.5, poll_s=0.5)
    scheduler.add(JobSpec("tick", Every(period_s), job))
    await scheduler.start()
    print("started", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3]), "hang" in sys.argv[4:]))
