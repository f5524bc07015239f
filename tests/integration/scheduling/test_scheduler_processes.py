"""Two real scheduler processes against one store (the embedded MongoDB server both reach over TCP): every
slot runs exactly once, and a process killed mid-run has its slot run again by the other."""

import asyncio
import itertools
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

pytestmark = pytest.mark.integration

PERIOD_S = 0.5


def worker(uri: str, database: str, *extra: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.scheduling.scheduler_worker", uri, database, str(PERIOD_S), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "started"
    return process


def kill(*processes: subprocess.Popen[str]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)


async def test_two_scheduler_processes_run_every_slot_exactly_once(mongo_server, mongo_db):
    processes = [worker(mongo_server.uri, mongo_db.name) for _ in range(2)]
    try:
        await asyncio.sleep(6.2)
    finally:
        kill(*processes)
    runs = await mongo_db["runs"].find({}).sort("at").to_list()
    slots = [float(run["slot"]) for run in runs]
    assert max(Counter(slots).values()) == 1, "a slot ran twice"
    periods = [(later - earlier) / PERIOD_S for earlier, later in itertools.pairwise(slots)]
    assert all(abs(p - round(p)) < 1e-6 and p >= 1 for p in periods), f"slots off the grid: {periods}"
    assert len(slots) >= 9  # of ~12: a slot is skipped only when both schedulers were late past the next one
    assert {run["pid"] for run in runs} <= {p.pid for p in processes}


async def test_a_slot_whose_process_was_killed_mid_run_is_run_by_the_other(mongo_server, mongo_db):
    hanging = worker(mongo_server.uri, mongo_db.name, "hang")
    try:
        deadline = time.monotonic() + 5
        while not (first := await mongo_db["runs"].find_one({})):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        os.kill(hanging.pid, signal.SIGKILL)
        hanging.wait(timeout=10)
        standby = worker(mongo_server.uri, mongo_db.name, "hang")
        standby_ready = time.time()
        try:
            deadline = time.monotonic() + 6
            while not (second := await mongo_db["runs"].find_one({"pid": standby.pid})):
                assert time.monotonic() < deadline, "the killed run's slot was never run again"
                await asyncio.sleep(0.05)
        finally:
            kill(standby)
    finally:
        kill(hanging)
    assert second["slot"] == first["slot"]  # the same slot, taken over once the lease (1.5 s) expired
    assert second["at"] - standby_ready < 4.0  # the lease (1.5 s) and a poll (0.5 s), with room for a busy machine
