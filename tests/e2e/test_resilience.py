"""Issue 3 §5 and issue 5 end to end: the service keeps its promises while its dependencies come and go —
MongoDB, Redis and TradingView taken away and given back under a running app, and a shutdown in the
middle of a background sync. Every wait is bounded; blocking start/stop calls run in a thread because
the simulator lives on the test's event loop."""

import asyncio
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from src.app.http import create_app
from src.domain.market_data import Interval
from src.infrastructure.mongo.embedded import EmbeddedMongo

pytestmark = pytest.mark.e2e
BTC = {"exchange": "BINANCE", "symbol": "BTCUSDT"}
OHLCV = "/api/v1/market-data/ohlcv/BINANCE/BTCUSDT"
FAST_S = 5.0  # "fails fast": an answer within this, never a hang


async def sync(api: httpx.AsyncClient, n_bars: int = 300, interval: str = "1m", **headers: str) -> httpx.Response:
    body = {**BTC, "interval": interval, "n_bars": n_bars}
    return await api.post("/api/v1/market-data/sync", json=body, headers=headers)


async def timed(call: Awaitable[httpx.Response]) -> tuple[httpx.Response, float]:
    began = time.monotonic()
    response = await call
    return response, time.monotonic() - began


async def eventually(probe: Callable[[], Awaitable[Any]], *, within_s: float, what: str) -> Any:
    """Poll `probe` until it returns something truthy; fail naming `what` after `within_s`."""
    deadline = time.monotonic() + within_s
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {within_s}s (last: {result!r})")
        await asyncio.sleep(0.1)


def assert_problem(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    assert response.status_code in statuses, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == response.status_code and body["title"] and body["detail"]
    return body


def stored_times(body: dict[str, Any]) -> list[int]:
    return [bar["timestamp"] for bar in body["bars"]]


def cache_hits(metrics_text: str) -> float:
    match = re.search(r"^cache_hits(?:_total)?(?:\{[^}]*\})? ([0-9.e+]+)$", metrics_text, re.MULTILINE)
    assert match, "no cache_hits counter in /metrics"
    return float(match.group(1))


@pytest.fixture
async def private_mongo(tmp_path) -> AsyncIterator[EmbeddedMongo]:
    """A store of this test's own (never the session-wide one), so it can be stopped and started."""
    store = EmbeddedMongo(tmp_path / "mongo")
    await asyncio.to_thread(store.start)
    try:
        yield store
    finally:
        await asyncio.to_thread(store.stop)


@asynccontextmanager
async def redis_down(redis_server) -> AsyncIterator[None]:
    """Redis gone for the block; back on the same port afterwards, whatever happens inside."""
    await asyncio.to_thread(redis_server.stop)
    try:
        yield
    finally:
        await asyncio.to_thread(redis_server.start)


@asynccontextmanager
async def client_of(server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        yield client


# --- 1. MongoDB outage ------------------------------------------------------------------------------


async def test_mongo_outage_fails_fast_with_503_and_recovers_without_a_restart(
    e2e_settings, private_mongo, serve_app, tv_simulator  # the app stops (its work drained) before the store
):
    settings = e2e_settings(mongodb_url=private_mongo.uri, mongodb_timeout_s=1.0, health_check_timeout_s=1.5)
    async with client_of(serve_app(create_app(settings))) as api:
        assert (await sync(api, n_bars=300)).status_code == 200
        expected = [int(r[0]) for r in tv_simulator.market.history("BINANCE:BTCUSDT", Interval.M1)[-300:]]
        warm = await api.get(OHLCV, params={"interval": "1m", "limit": 50})  # now cached in Redis
        assert warm.status_code == 200

        async def checked() -> bool:  # the quality check each sync starts in the background is done
            return (await api.get("/api/v1/quality/BINANCE/BTCUSDT", params={"interval": "1m"})).status_code == 200

        await eventually(checked, within_s=10, what="the sync's quality check")
        await asyncio.to_thread(private_mongo.stop)

        health, took = await timed(api.get("/health"))
        assert health.status_code == 503 and "mongo" in health.json()["down"], health.text
        assert not health.json()["components"]["mongo"]["healthy"] and took < FAST_S
        uncached, took = await timed(api.get(OHLCV, params={"interval": "1m", "limit": 77}))
        assert assert_problem(uncached, 503)["type"].endswith("store-unavailable") and took < FAST_S
        assert uncached.headers["retry-after"]
        synced, took = await timed(sync(api, n_bars=300))
        assert assert_problem(synced, 503)["type"].endswith("store-unavailable") and took < FAST_S
        # The cache's job: a query warm in Redis is still answered while the store is away.
        cached, took = await timed(api.get(OHLCV, params={"interval": "1m", "limit": 50}))
        assert cached.status_code == 200 and cached.content == warm.content and took < FAST_S

        await asyncio.to_thread(private_mongo.start)  # same port, same SQLite file; the app is not restarted

        async def healthy() -> bool:
            return (await api.get("/health")).status_code == 200

        await eventually(healthy, within_s=10, what="/health back to 200 after the store returned")
        after = await api.get(OHLCV, params={"interval": "1m", "limit": 5000})
        assert after.status_code == 200 and stored_times(after.json()) == expected  # nothing lost, no duplicates
        resynced = await sync(api, n_bars=300)
        assert resynced.status_code == 200 and resynced.json()["status"] == "completed"
        [status] = (await api.get("/api/v1/market-data/sync-status", params={"symbol": "BTCUSDT"})).json()
        assert status["status"] == "completed" and status["coverage"]["bar_count"] == 300


# --- 2. Redis outage --------------------------------------------------------------------------------


async def test_redis_outage_degrades_to_cache_misses_and_the_cache_reconnects_by_itself(api, redis_server):
    assert (await sync(api, n_bars=100)).status_code == 200
    first = await api.get(OHLCV, params={"interval": "1m", "limit": 100})
    assert first.status_code == 200 and first.json()["count"] == 100

    async with redis_down(redis_server):
        read, took = await timed(api.get(OHLCV, params={"interval": "1m", "limit": 100}))
        assert read.status_code == 200 and read.content == first.content and took < FAST_S  # served by the store
        other, _ = await timed(api.get(OHLCV, params={"interval": "1m", "limit": 10, "order": "desc"}))
        assert other.status_code == 200 and other.json()["count"] == 10
        synced, took = await timed(sync(api, n_bars=100))  # rate limiter fails open, invalidation is a no-op
        assert synced.status_code == 200 and synced.json()["status"] == "completed" and took < FAST_S
        # Documented choice: the idempotency edge cannot promise at-most-once without its store → 503.
        keyed = await sync(api, n_bars=100, **{"Idempotency-Key": "redis-down-1"})
        assert_problem(keyed, 503)
        # /health names the degraded components (503, as documented), while requests keep succeeding.
        health = await api.get("/health")
        # Both users of Redis: the cache and the streams between processes.
        assert health.status_code == 503 and health.json()["down"] == ["cache", "cluster-streams"], health.text

    async def healthy() -> bool:
        return (await api.get("/health")).status_code == 200

    await eventually(healthy, within_s=5, what="/health back to 200 after Redis returned")
    refill = await api.get(OHLCV, params={"interval": "1m", "limit": 100})  # a miss that fills the cache again
    assert refill.status_code == 200 and refill.json()["count"] == 100
    cache = aioredis.Redis.from_url(redis_server.url)
    try:
        assert [k async for k in cache.scan_iter("ohlcv:tradingview:BTCUSDT:BINANCE:1m:*")]
    finally:
        await cache.aclose()
    hits_before = cache_hits((await api.get("/metrics")).text)
    again = await api.get(OHLCV, params={"interval": "1m", "limit": 100})
    assert again.content == refill.content
    assert cache_hits((await api.get("/metrics")).text) == hits_before + 1
    keyed = await sync(api, n_bars=100, **{"Idempotency-Key": "redis-back-1"})
    assert keyed.status_code == 200


# --- 3. TradingView unreachable mid-run -------------------------------------------------------------


async def test_tradingview_going_away_mid_run_is_a_fast_problem_and_the_next_sync_recovers(
    e2e_settings, serve_app, tv_simulator
):
    settings = e2e_settings(tradingview_timeout_s=1.5)
    rows = tv_simulator.market.history("BINANCE:BTCUSDT", Interval.M1)
    async with client_of(serve_app(create_app(settings))) as api:
        assert (await sync(api, n_bars=100)).status_code == 200  # connected and working

        await tv_simulator.drop_all_connections()
        tv_simulator.faults.reject_upgrade = 403  # and it refuses to take us back
        failed, took = await timed(sync(api, n_bars=100))
        assert_problem(failed, 502, 503)
        assert took < FAST_S
        [status] = (await api.get("/api/v1/market-data/sync-status", params={"symbol": "BTCUSDT"})).json()
        assert status["status"] == "error" and status["error"]

        tv_simulator.faults.reject_upgrade = None
        tv_simulator.faults.delay = 3.0  # connected, but it answers nothing in time
        stalled, took = await timed(sync(api, n_bars=100))
        assert_problem(stalled, 502, 503)
        assert took < FAST_S

        # The stall ends with the connection reset: the simulator answers a session's messages in order,
        # so on the old socket the next sync would queue behind the stalled one's delayed messages.
        tv_simulator.faults.delay = 0.0
        await tv_simulator.drop_all_connections()
        recovered = await sync(api, n_bars=100)  # the client reconnects by itself; the app is not restarted
        assert recovered.status_code == 200, recovered.text
        assert recovered.json()["status"] == "completed"
        stored = (await api.get(OHLCV, params={"interval": "1m", "limit": 5000})).json()
        assert stored_times(stored) == [int(r[0]) for r in rows[-100:]]  # the failures wrote nothing


# --- 4. Graceful shutdown ---------------------------------------------------------------------------


async def test_shutdown_during_a_background_sync_leaves_a_consistent_store_and_no_stuck_status(
    e2e_settings, serve_app, tv_simulator
):
    # One database for both app instances; the upstream hangs, so shutdown has to cut the sync off.
    settings = e2e_settings(scheduler_enabled=False, tradingview_timeout_s=30.0)
    first = serve_app(create_app(settings))
    async with client_of(first) as api:
        assert (await sync(api, n_bars=200, interval="5m")).status_code == 200  # another series, stored before
        tv_simulator.faults.delay = 3.0  # per message: the sync needs several round trips, > the 5 s drain
        body = {**BTC, "interval": "1m", "n_bars": 12_000}
        accepted = await api.post("/api/v1/market-data/sync/background", json=body)
        assert accepted.status_code == 202
        location = accepted.headers["location"]

        async def syncing() -> bool:
            return (await api.get(location)).json()["status"] == "syncing"

        await eventually(syncing, within_s=5, what="the background sync running")
    began = time.monotonic()
    await asyncio.wait_for(asyncio.to_thread(first.stop), timeout=30)
    stop_took = time.monotonic() - began
    tv_simulator.faults.delay = 0.0
    await tv_simulator.drop_all_connections()  # the simulator's sessions of the old app stop sleeping

    second = serve_app(create_app(settings))  # a new app on the same database
    async with client_of(second) as api:
        status = (await api.get(location)).json()
        # Shutdown drained it for a while, then cut it off and recorded that: not "syncing" forever.
        assert (status["status"], status["error"]) == ("interrupted", "interrupted by shutdown"), status
        other = (await api.get(OHLCV, params={"interval": "5m", "limit": 5000})).json()
        assert other["count"] == 200 and len(set(stored_times(other))) == 200  # untouched by the shutdown
        again = await sync(api, n_bars=12_000)
        assert again.status_code == 200 and again.json()["status"] == "completed", again.text
        stored = stored_times((await api.get(OHLCV, params={"interval": "1m", "limit": 100_000})).json())
        rows = tv_simulator.market.history("BINANCE:BTCUSDT", Interval.M1)
        assert stored == [int(r[0]) for r in rows[-len(stored):]] and len(stored) >= 12_000  # no duplicates
    assert stop_took < 15, f"shutdown took {stop_took:.1f}s"
