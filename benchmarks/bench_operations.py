"""Operations figures (issue 20) on the embedded store (mongoeco over SQLite, the default deployment):

* the webhook outbox: what `send` costs the publisher (one outbox write per event), and deliveries per second
  drained from the outbox to a local receiver, against the same POSTs made directly (no outbox) in the same run;
* the scheduler: how late after its slot a job starts, with two schedulers sharing the job store, and that
  each slot ran once.
"""

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

from src.common.jobs import Every, JobSpec
from src.infrastructure.mongo.connection import MongoStore
from src.infrastructure.mongo.dead_letter_repository import MongoDeadLetterStore
from src.infrastructure.mongo.webhook_outbox import MongoWebhookOutbox
from src.infrastructure.notify.webhooks import WebhookDispatcher
from src.infrastructure.scheduling.job_store import MongoJobStore
from src.infrastructure.scheduling.scheduler import JobScheduler
from tests.fixtures.servers import free_port

DELIVERIES = 500
SLOT_S = 1.0
SLOTS = 8


async def _receiver(received: list[bytes]) -> tuple[web.AppRunner, str]:
    async def handle(request: web.Request) -> web.Response:
        received.append(await request.read())
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}/hook"


async def _until(condition, timeout_s: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark condition not met")
        await asyncio.sleep(0.005)


async def _outbox_figures(database, url: str, received: list[bytes]) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Sends first (the publisher's cost), with no dispatcher running; then how fast one drains them."""
    dispatcher = WebhookDispatcher([url], secret=b"bench", outbox=MongoWebhookOutbox(database),
                                   dead_letters=MongoDeadLetterStore(database), max_in_flight=32)
    await MongoWebhookOutbox(database).ensure_indexes()
    sends = []
    for n in range(DELIVERIES):
        started = time.perf_counter()
        await dispatcher.send("bar.synced", {"n": n}, occurred_at=1.0, correlation_id=None)
        sends.append(time.perf_counter() - started)
    began = time.perf_counter()
    await dispatcher.start()
    await _until(lambda: len(received) >= DELIVERIES)
    seconds = time.perf_counter() - began
    await dispatcher.stop()
    sends.sort()
    return {
        "webhook_outbox_send_p50_ms": round(statistics.median(sends) * 1000, 2),
        "webhook_outbox_send_p99_ms": round(sends[int(len(sends) * 0.99)] * 1000, 2),
        "webhook_outbox_deliveries_per_s": round(DELIVERIES / seconds),
    }


async def _direct_per_s(url: str, received: list[bytes]) -> float:
    """The baseline: the same number of POSTs, 32 at a time, with nothing written anywhere."""
    gate = asyncio.Semaphore(32)
    async with aiohttp.ClientSession() as session:
        async def post(n: int) -> None:
            async with gate, session.post(url, data=b'{"n": %d}' % n) as response:
                await response.read()

        began = time.perf_counter()
        await asyncio.gather(*(post(n) for n in range(DELIVERIES)))
        await _until(lambda: len(received) >= DELIVERIES)
        return DELIVERIES / (time.perf_counter() - began)


async def _scheduler_figures(database) -> dict[str, float]:  # type: ignore[no-untyped-def]
    store = MongoJobStore(database["scheduled_jobs"])
    lateness: list[float] = []
    slots: list[float] = []

    async def job() -> None:
        state = (await store.states(["tick"]))["tick"]
        slots.append(state.next_run)
        lateness.append(time.time() - state.next_run)

    schedulers = [JobScheduler(store) for _ in range(2)]  # polling every 5 s, as deployed
    for scheduler in schedulers:
        scheduler.add(JobSpec("tick", Every(SLOT_S), job))
        await scheduler.start()
    await _until(lambda: len(slots) >= SLOTS, timeout_s=SLOTS * SLOT_S * 4)
    for scheduler in schedulers:
        await scheduler.stop()
    return {
        "scheduler_slot_start_p50_ms": round(statistics.median(lateness) * 1000, 1),
        "scheduler_slot_start_max_ms": round(max(lateness) * 1000, 1),
        "scheduler_slots_run_twice": float(len(slots) - len(set(slots))),
    }


async def _figures(directory: Path) -> dict[str, float]:
    store = MongoStore(None, data_dir=directory / "mongo")
    database = await store.start()
    received: list[bytes] = []
    runner, url = await _receiver(received)
    try:
        figures = await _outbox_figures(database, url, received)
        received.clear()
        direct = await _direct_per_s(url, received)
        figures["webhook_direct_deliveries_per_s"] = round(direct)
        figures["webhook_outbox_vs_direct_ratio"] = round(figures["webhook_outbox_deliveries_per_s"] / direct, 2)
        figures.update(await _scheduler_figures(database))
    finally:
        await runner.cleanup()
        await store.stop()
    return figures


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="pq-bench-operations-") as tmp:
        return asyncio.run(_figures(Path(tmp)))


if __name__ == "__main__":
    print(run())
