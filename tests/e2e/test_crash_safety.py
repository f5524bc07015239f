"""Issue 11 §2 with real service processes (`python -m src.main`) on one store, Redis and the simulator:
a process killed with SIGKILL in the middle of a sync, a SIGTERM while a sync runs, two processes syncing
side by side. Each process is configured by environment variables, as users run it."""

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import redis

from simulators.tradingview import TradingViewSimulator
from src.domain.market_data import Interval
from tests.e2e.service_process import ServiceProcess, start_service

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]
BTC = {"exchange": "BINANCE", "symbol": "BTCUSDT", "interval": "1m"}
ETH = {"exchange": "BINANCE", "symbol": "ETHUSDT", "interval": "1m"}
OHLCV = "/api/v1/market-data/ohlcv/BINANCE/BTCUSDT"
STATUS = "/api/v1/market-data/sync-status/BINANCE/BTCUSDT/1m"
BIG = 50_000


@pytest.fixture
async def sim() -> AsyncIterator[TradingViewSimulator]:
    simulator = TradingViewSimulator(history_bars=BIG + 1_000, heartbeat_interval=1.0)
    for ticker in ("BINANCE:BTCUSDT", "BINANCE:ETHUSDT"):
        simulator.market.history(ticker, Interval.M1)  # generated now, not while a sync waits
    await simulator.start("127.0.0.1", 0)
    try:
        yield simulator
    finally:
        await simulator.stop()


@pytest.fixture
async def services(tmp_path, sim, mongo_server, redis_server) -> AsyncIterator[Callable[..., Any]]:
    """`await start(name, **env)`: a healthy service process on this test's store, Redis and simulator."""
    redis.Redis.from_url(redis_server.url).flushdb()
    settings = {"MONGODB_URL": mongo_server.uri, "MONGODB_DATABASE": f"crash_{uuid.uuid4().hex[:10]}",
                "REDIS_URL": redis_server.url, "TRADINGVIEW_WS_URL": sim.ws_url,
                "TRADINGVIEW_SEARCH_URL": sim.search_url, "TRADINGVIEW_TIMEOUT_S": "30"}
    started: list[ServiceProcess] = []

    async def start(name: str, **env: str) -> ServiceProcess:
        service = start_service(tmp_path, name, **{**settings, **env})
        started.append(service)
        await service.healthy()
        return service

    yield start
    for service in started:
        if service.process.poll() is None:
            with contextlib.suppress(TimeoutError):
                await service.terminate()


async def until(probe: Callable[[], Any], within_s: float, what: str, step_s: float = 0.05) -> Any:
    deadline = time.monotonic() + within_s
    while True:
        found = await probe()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {within_s}s (last: {found!r})")
        await asyncio.sleep(step_s)


async def status_of(client: httpx.AsyncClient, path: str = STATUS) -> dict[str, Any]:
    response = await client.get(path)
    return response.json() if response.status_code == 200 else {}


async def times(client: httpx.AsyncClient, **params: Any) -> list[int]:
    body = (await client.get(OHLCV, params={"interval": "1m", "limit": 100_000, **params})).json()
    return [bar["timestamp"] for bar in body["bars"]]


async def test_a_process_killed_mid_sync_leaves_nothing_stuck_stale_or_duplicated(services, sim):
    first, other = await services("first"), await services("other")  # `other` keeps a warm near cache
    async with httpx.AsyncClient(base_url=first.url, timeout=60) as a, \
            httpx.AsyncClient(base_url=other.url, timeout=60) as c:
        assert (await a.post("/api/v1/market-data/sync", json={**BTC, "n_bars": 1_000})).status_code == 200
        warm = await times(c, limit=2_000)
        assert warm == await times(c, limit=2_000) and len(warm) == 1_000  # cached in Redis and near cache
        sim.faults.delay = 0.2  # every page of the big sync waits a little
        started = await a.post("/api/v1/market-data/sync/background", json={**BTC, "n_bars": BIG})
        assert started.status_code == 202

        async def writing() -> bool:
            status = await status_of(c)
            return status.get("status") == "syncing" and 1_000 < status["coverage"]["bar_count"] < BIG

        await until(writing, 60, "the big sync writing its bars", step_s=0.01)
        first.kill()
        stuck = await status_of(c)
        assert stuck["status"] == "syncing" and stuck["owner"].split(":")[1] == str(first.process.pid)
        sim.faults.delay = 0.0

        restarted = await services("restarted")
        async with httpx.AsyncClient(base_url=restarted.url, timeout=60) as b:
            recovered = await status_of(b)
            assert recovered["status"] == "interrupted" and "gone" in recovered["error"]
            stored = await times(b, limit=BIG)
            assert stored == sorted(set(stored))  # no duplicates, in order
            fresh = list(reversed(await times(c, limit=2_000, order="desc")))  # a query never cached before
            assert await times(c, limit=2_000) == fresh == stored[-2_000:]  # no stale result in any worker
            synced = await b.post("/api/v1/market-data/sync", json={**BTC, "n_bars": BIG})
            assert synced.status_code == 200, synced.text
            rows = sim.market.history("BINANCE:BTCUSDT", Interval.M1)
            assert await times(b, limit=BIG) == [int(r[0]) for r in rows[-BIG:]]  # the complete window
            done = await status_of(c)
            assert done["status"] == "completed" and done["coverage"]["missing_bars"] == 0
            assert await times(c, limit=2_000) == [int(r[0]) for r in rows[-2_000:]]  # the near cache too


async def test_sigterm_during_a_sync_stops_within_the_grace_and_records_the_interruption(services, sim):
    service = await services("stopping", SYNC_DRAIN_TIMEOUT_S="2")
    async with httpx.AsyncClient(base_url=service.url, timeout=60) as api:
        sim.faults.delay = 1.0  # the sync needs several slow round trips: it cannot finish within the grace
        blocking = asyncio.create_task(api.post("/api/v1/market-data/sync", json={**BTC, "n_bars": 20_000}))
        await until(lambda: _syncing(api), 10, "the blocking sync running")
        took = await service.terminate()
        response = await blocking
    assert took < 2 + 3.0, f"shutdown took {took:.1f}s:\n{service.output[-2000:]}"
    assert response.status_code == 503 and "shutting down" in response.json()["detail"]
    sim.faults.delay = 0.0
    again = await services("again")
    async with httpx.AsyncClient(base_url=again.url, timeout=60) as api:
        status = await status_of(api)
        assert status["status"] == "interrupted" and status["error"] == "interrupted by shutdown"
        assert (await api.post("/api/v1/market-data/sync", json={**BTC, "n_bars": 1_000})).status_code == 200


async def _syncing(api: httpx.AsyncClient) -> bool:
    return (await status_of(api)).get("status") == "syncing"


async def test_two_processes_on_one_store_keep_each_others_runs(services, sim):
    first = await services("first")
    async with httpx.AsyncClient(base_url=first.url, timeout=60) as a:
        sim.faults.delay = 1.5  # the run must outlast the second process's start on a busy machine
        assert (await a.post("/api/v1/market-data/sync/background", json={**BTC, "n_bars": 20_000})).is_success
        await until(lambda: _syncing(a), 10, "the first process syncing")
        second = await services("second")  # its start-up recovery must leave the live run alone
        async with httpx.AsyncClient(base_url=second.url, timeout=60) as b:
            theirs = await status_of(b)
            assert theirs["status"] == "syncing" and theirs["owner"].split(":")[1] == str(first.process.pid)
            refused = await b.post("/api/v1/market-data/sync", json={**BTC, "n_bars": 20_000})
            assert refused.status_code == 409, refused.text
            joined = await b.post("/api/v1/market-data/sync/background", json={**BTC, "n_bars": 20_000})
            assert joined.status_code == 202 and joined.json()["owner"] == theirs["owner"]
            other = asyncio.create_task(b.post("/api/v1/market-data/sync", json={**ETH, "n_bars": 2_000}))

            async def completed() -> bool:
                return (await status_of(b)).get("status") == "completed"

            await until(completed, 120, "the first process's run completing")
            assert (await other).status_code == 200
            ethereum = await status_of(a, "/api/v1/market-data/sync-status/BINANCE/ETHUSDT/1m")
            assert ethereum["status"] == "completed" and ethereum["owner"].split(":")[1] == str(second.process.pid)
            done = await status_of(a)
            assert done["owner"] == theirs["owner"] and done["coverage"]["bar_count"] == 20_000
            sim.faults.delay = 0.0
            assert (await b.post("/api/v1/market-data/sync", json={**BTC, "n_bars": 20_000})).status_code == 200
