"""Issue 20: the scheduler's state survives a killed process, with real service processes (`python -m
src.main`, the scheduler role on) sharing one store: a restart keeps the next run (not postponed by a
period), shows the last run, and runs a job that fell due while no scheduler ran, once, at start."""

import asyncio
import time
import uuid

import httpx
import pytest
from pymongo import AsyncMongoClient

from tests.e2e.service_process import ServiceProcess, start_service

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]
CLOSED = "127.0.0.1:9"  # no source is contacted: no symbol is tracked


async def jobs(service: ServiceProcess) -> dict[str, dict]:
    async with httpx.AsyncClient(base_url=service.url, timeout=30) as api:
        return {job["name"]: job for job in (await api.get("/api/v1/jobs")).json()}


async def test_a_restarted_scheduler_keeps_the_schedule_and_runs_what_fell_due_once(tmp_path, mongo_server):
    database = f"sched_{uuid.uuid4().hex[:10]}"
    env = {"MONGODB_URL": mongo_server.uri, "MONGODB_DATABASE": database, "SCHEDULER_ENABLED": "true",
           "TRADINGVIEW_WS_URL": f"ws://{CLOSED}/socket.io/websocket",
           "TRADINGVIEW_SEARCH_URL": f"http://{CLOSED}/symbol_search/v3/"}
    client = AsyncMongoClient(mongo_server.uri)
    states = client[database]["scheduled_jobs"]
    services: list[ServiceProcess] = []
    try:
        first = start_service(tmp_path, "first", **env)
        services.append(first)
        await first.healthy()
        before = await jobs(first)
        next_run = before["sync_all_symbols"]["next_run"]
        assert next_run > time.time() + 6 * 3600 - 120 and before["sync_all_symbols"]["last_run"] is None
        async with httpx.AsyncClient(base_url=first.url, timeout=30) as api:
            assert (await api.post("/api/v1/jobs/sync_all_symbols/run")).json()["outcome"] == "ok"
        first.kill()

        second = start_service(tmp_path, "second", **env)
        services.append(second)
        await second.healthy()
        after = (await jobs(second))["sync_all_symbols"]
        assert after["next_run"] == next_run  # not postponed by the restart
        assert after["last_run"]["outcome"] == "ok"  # the killed process's run, kept
        second.kill()

        # Down across a slot: the next scheduler runs it at once, once, and moves on along the 6-hour grid.
        overdue = time.time() - 3 * 3600
        await states.update_one({"_id": "sync_all_symbols"}, {"$set": {"next_run": overdue}})
        started = time.time()
        third = start_service(tmp_path, "third", **env)
        services.append(third)
        await third.healthy()
        deadline = time.monotonic() + 20
        while (job := (await jobs(third))["sync_all_symbols"])["next_run"] == overdue:
            assert time.monotonic() < deadline, "the overdue slot was not run at start"
            await asyncio.sleep(0.1)
        assert job["last_run"]["started_at"] >= started and job["last_run"]["outcome"] == "ok"
        assert job["next_run"] == overdue + 6 * 3600  # the missed slot ran once; the schedule is not shifted
    finally:
        for service in services:
            if service.process.poll() is None:
                service.kill()
        await client.drop_database(database)
        await client.close()
