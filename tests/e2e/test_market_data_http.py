"""Issue 5 end to end: sync, query, symbols, background and bulk syncs, jobs — through HTTP."""

import asyncio
import csv
import io

import httpx
import pytest

from src.app.http import create_app
from src.domain.market_data import Interval

pytestmark = pytest.mark.e2e
BTC = {"exchange": "BINANCE", "symbol": "BTCUSDT"}
OHLCV = "/api/v1/market-data/ohlcv/BINANCE/BTCUSDT"


def sim_rows(tv_simulator, ticker="BINANCE:BTCUSDT", interval=Interval.M1):
    return tv_simulator.market.history(ticker, interval)


async def sync(api, n_bars=500, interval="1m", **series):
    body = {**(series or BTC), "interval": interval, "n_bars": n_bars}
    return await api.post("/api/v1/market-data/sync", json=body)


async def test_first_sync_stores_exactly_the_upstream_bars(api, tv_simulator):
    response = await sync(api, n_bars=500)
    assert response.status_code == 200, response.text
    body = response.json()
    rows = sim_rows(tv_simulator)[-500:]
    assert (body["status"], body["bars_fetched"], body["bars_written"]) == ("completed", 500, 500)
    stored = (await api.get(OHLCV, params={"interval": "1m", "limit": 1000})).json()
    assert stored["count"] == 500
    assert [b["timestamp"] for b in stored["bars"]] == [int(r[0]) for r in rows]
    assert [b["close"] for b in stored["bars"]] == [r[4] for r in rows]
    assert [b["volume"] for b in stored["bars"]] == [r[5] for r in rows]


async def test_resync_is_idempotent_but_refreshes_the_forming_bar(api, tv_simulator):
    await sync(api, n_bars=300)
    again = (await sync(api, n_bars=300)).json()
    assert again["bars_written"] == 0
    rows = sim_rows(tv_simulator)
    last = list(rows[-1])
    last[2], last[4] = last[2] + 50, last[4] + 25  # the forming bar moved up
    rows[-1] = last
    refreshed = (await sync(api, n_bars=300)).json()
    assert refreshed["bars_written"] == 1
    newest = (await api.get(OHLCV, params={"interval": "1m", "limit": 1, "order": "desc"})).json()["bars"][0]
    assert (newest["high"], newest["close"]) == (last[2], last[4])
    assert (await api.get(OHLCV, params={"interval": "1m", "limit": 5000})).json()["count"] == 300


async def test_incremental_sync_asks_only_for_what_is_missing(api, tv_simulator):
    rows = sim_rows(tv_simulator)
    full = list(rows)
    rows[:] = full[:-10]  # the upstream is 10 bars behind "now" at first
    await sync(api, n_bars=1000)
    rows[:] = full
    before = len(tv_simulator.received)
    body = (await sync(api, n_bars=1000)).json()
    asked = [p[5] for m, p in tv_simulator.received[before:] if m == "create_series"]
    assert asked and asked[0] <= 10 + 3
    assert body["bars_written"] >= 10
    stored = (await api.get(OHLCV, params={"interval": "1m", "limit": 5000})).json()
    assert stored["count"] == 1000 + 10
    assert stored["bars"][-1]["timestamp"] == int(full[-1][0])


async def test_more_than_5000_bars_arrive_by_paging(api, tv_simulator):
    body = (await sync(api, n_bars=7000)).json()
    assert (body["bars_fetched"], body["bars_written"]) == (7000, 7000)
    assert any(m == "request_more_data" for m, _ in tv_simulator.received)
    stored = (await api.get(OHLCV, params={"interval": "1m", "limit": 7000})).json()
    assert [b["timestamp"] for b in stored["bars"]] == [int(r[0]) for r in sim_rows(tv_simulator)[-7000:]]


async def test_unknown_symbol_is_404_and_only_the_error_status_is_written(api):
    response = await sync(api, exchange="BINANCE", symbol="NOPE")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    [status] = (await api.get("/api/v1/market-data/sync-status", params={"symbol": "NOPE"})).json()
    assert status["status"] == "error" and "NOPE" in status["error"]
    assert status["coverage"]["bar_count"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**BTC, "interval": "7m"}, "interval"),
        ({**BTC, "interval": "1m", "n_bars": 0}, "n_bars"),
        ({**BTC, "interval": "1m", "n_bars": "many"}, "n_bars"),
        ({"exchange": "BINANCE", "interval": "1m"}, "symbol"),
    ],
)
async def test_invalid_sync_requests_are_422_naming_the_field(api, body, field):
    response = await api.post("/api/v1/market-data/sync", json=body)
    assert response.status_code == 422
    assert field in [e["field"].split(".")[-1] for e in response.json()["errors"]]


async def test_invalid_query_dates_and_limits_are_422(api):
    bad_date = await api.get(OHLCV, params={"interval": "1m", "start": "yesterday-ish"})
    assert bad_date.status_code == 422 and "start" in bad_date.text
    bad_limit = await api.get(OHLCV, params={"interval": "1m", "limit": -3})
    assert bad_limit.status_code == 422 and "limit" in bad_limit.text
    bad_symbol = await api.get("/api/v1/market-data/ohlcv/BIN ANCE/BTC")
    assert bad_symbol.status_code == 422 and "exchange" in bad_symbol.text


async def test_unreachable_tradingview_is_503_and_stores_nothing(e2e_settings, serve_app):
    server = serve_app(create_app(e2e_settings(tradingview_ws_url="ws://127.0.0.1:9/socket.io/websocket",
                                               tradingview_timeout_s=1.0)))
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as api:
        response = await sync(api)
        assert response.status_code == 503, response.text
        assert response.json()["title"]
        assert (await api.get(OHLCV, params={"interval": "1m"})).status_code == 404  # nothing stored: no series


async def test_queries_by_range_limit_order_and_csv(api, tv_simulator):
    await sync(api, n_bars=100)
    rows = sim_rows(tv_simulator)[-100:]
    start, end = int(rows[10][0]), int(rows[19][0])
    ranged = (await api.get(OHLCV, params={"interval": "1m", "start": start, "end": end})).json()
    assert [b["timestamp"] for b in ranged["bars"]] == [int(r[0]) for r in rows[10:20]]
    iso = ranged["bars"][0]["time"]
    by_iso = (await api.get(OHLCV, params={"interval": "1m", "start": iso, "limit": 3})).json()
    assert [b["timestamp"] for b in by_iso["bars"]] == [int(r[0]) for r in rows[10:13]]  # from the start on
    desc = (await api.get(OHLCV, params={"interval": "1m", "limit": 5, "order": "desc"})).json()
    assert [b["timestamp"] for b in desc["bars"]] == [int(r[0]) for r in reversed(rows[-5:])]
    exported = await api.get(OHLCV, params={"interval": "1m", "limit": 4, "format": "csv"})
    assert exported.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(exported.text)))
    assert [float(r["close"]) for r in table] == [r[4] for r in rows[-4:]]


async def test_reads_are_cached_in_redis_and_invalidated_by_a_sync(api, tv_simulator, redis_server):
    import redis.asyncio as aioredis

    await sync(api, n_bars=50)
    first = (await api.get(OHLCV, params={"interval": "1m", "limit": 500})).json()
    cache = aioredis.Redis.from_url(redis_server.url)
    keys = [k async for k in cache.scan_iter("ohlcv:tradingview:BTCUSDT:BINANCE:1m:*")]
    assert len(keys) == 1
    second = (await api.get(OHLCV, params={"interval": "1m", "limit": 500})).json()
    assert second == first
    metrics = (await api.get("/metrics")).text
    assert "cache_hits_total" in metrics or "cache_hits" in metrics
    rows = sim_rows(tv_simulator)
    rows[-1] = [*rows[-1][:4], rows[-1][4] + 1.5, *rows[-1][5:]]  # the forming bar's close moved
    rows[-1][2] = max(rows[-1][2], rows[-1][4])
    assert (await sync(api, n_bars=50)).json()["bars_written"] == 1
    assert [k async for k in cache.scan_iter("ohlcv:tradingview:BTCUSDT:BINANCE:1m:*")] == []
    fresh = (await api.get(OHLCV, params={"interval": "1m", "limit": 500})).json()
    assert fresh["bars"][-1]["close"] == rows[-1][4] != first["bars"][-1]["close"]
    await cache.aclose()


async def test_background_sync_is_accepted_then_polled_to_completion(api):
    body = {**BTC, "interval": "5m", "n_bars": 2000}
    accepted = await api.post("/api/v1/market-data/sync/background", json=body)
    assert accepted.status_code == 202 and accepted.json()["status"] in ("pending", "syncing")
    joined = await api.post("/api/v1/market-data/sync/background", json=body)
    assert joined.status_code == 202
    location = accepted.headers["location"]
    for _ in range(200):
        status = (await api.get(location)).json()
        if status["status"] in ("completed", "error"):
            break
        await asyncio.sleep(0.05)
    assert status["status"] == "completed" and status["bars_written"] == 2000
    assert status["coverage"]["bar_count"] == 2000


async def test_bulk_sync_reports_each_series_and_one_failure_stops_nothing(api):
    items = [
        {**BTC, "interval": "1h", "n_bars": 100},
        {"exchange": "NASDAQ", "symbol": "AAPL", "interval": "1d", "n_bars": 50},
        {"exchange": "BINANCE", "symbol": "NOPE", "interval": "1h", "n_bars": 10},
    ]
    results = (await api.post("/api/v1/market-data/sync/bulk", json={"items": items})).json()
    assert [r["ok"] for r in results] == [True, True, False]
    assert results[0]["result"]["bars_written"] == 100
    assert results[1]["result"]["bars_written"] == 50
    assert results[2]["error_type"] == "SymbolNotFound"
    daily = (await api.get("/api/v1/market-data/ohlcv/NASDAQ/AAPL", params={"interval": "1d", "limit": 1})).json()
    assert daily["bars"][0]["time"][-10:] in ("T13:30:00Z", "T14:30:00Z")  # stamped at the session open


async def test_symbols_track_search_untrack(api):
    tracked = await api.post("/api/v1/market-data/symbols", json={**BTC, "intervals": ["1m", "1h"]})
    assert tracked.status_code == 201 and tracked.json()["description"] == "Bitcoin / TetherUS"
    assert [s["symbol"] for s in (await api.get("/api/v1/market-data/symbols")).json()] == ["BTCUSDT"]
    found = (await api.get("/api/v1/market-data/symbols/search", params={"q": "eth"})).json()
    assert any(m["symbol"] == "ETHUSDT" and m["exchange"] == "BINANCE" for m in found)
    unknown = await api.post("/api/v1/market-data/symbols", json={"exchange": "BINANCE", "symbol": "NOPE"})
    assert unknown.status_code == 404
    gone = await api.delete("/api/v1/market-data/symbols/BINANCE/BTCUSDT")
    assert gone.status_code == 200 and gone.json()["active"] is False
    assert (await api.get("/api/v1/market-data/symbols")).json() == []
    assert (await api.delete("/api/v1/market-data/symbols/BINANCE/BTCUSDT")).status_code == 404


async def test_a_newly_tracked_symbol_gets_its_data_at_once(api):
    tracked = (await api.post("/api/v1/market-data/symbols", json={**BTC, "intervals": ["4h"]})).json()
    [first] = tracked["first_syncs"]
    assert (first["interval"], first["status"]) == ("4h", "pending")
    status_url = "/api/v1/market-data/sync-status/BINANCE/BTCUSDT/4h"
    for _ in range(200):  # no job runs: the sync tracking started fills the series
        status = (await api.get(status_url)).json()
        if status["status"] == "completed":
            break
        await asyncio.sleep(0.05)
    assert status["status"] == "completed" and status["bars_written"] == 500
    assert (await api.get(OHLCV, params={"interval": "4h", "limit": 1000})).json()["count"] == 500
    assert (await api.get("/api/v1/jobs")).json()[0]["last_run"] is None


async def test_scheduled_jobs_run_on_demand_and_report_their_outcome(api):
    await api.post("/api/v1/market-data/symbols", json={**BTC, "intervals": ["1h", "4h"]})
    await api.post("/api/v1/market-data/symbols", json={"exchange": "NASDAQ", "symbol": "AAPL", "intervals": ["1d"]})
    run = (await api.post("/api/v1/jobs/sync_all_symbols/run")).json()
    assert run["outcome"] == "ok" and run["detail"]["series"] == 3
    assert (await api.get(OHLCV, params={"interval": "4h", "limit": 1000})).json()["count"] == 500
    daily = (await api.post("/api/v1/jobs/sync_daily_data/run")).json()
    assert daily["outcome"] == "ok" and daily["detail"]["series"] == 2
    jobs = {j["name"]: j for j in (await api.get("/api/v1/jobs")).json()}
    assert jobs["sync_all_symbols"]["last_run"]["outcome"] == "ok"
    assert jobs["sync_daily_data"]["next_run"] is not None and jobs["sync_daily_data"]["running"] is False
    assert (await api.post("/api/v1/jobs/nope/run")).status_code == 404
    metrics = (await api.get("/metrics")).text
    assert 'job_runs_total{job_name="sync_all_symbols",outcome="ok"} 1.0' in metrics


async def test_health_names_each_component(api):
    health = await api.get("/health")
    assert health.status_code == 200
    assert {"mongo", "cache", "quotes", "scheduler"} <= set(health.json()["components"])


async def test_undeliverable_webhooks_end_as_dead_letters_in_the_store(e2e_settings, serve_app):
    settings = e2e_settings(webhook_urls=["http://127.0.0.1:9/hook"], webhook_max_attempts=2,
                            webhook_backoff_base_s=0.01, webhook_backoff_max_s=0.02, webhook_timeout_s=1.0)
    server = serve_app(create_app(settings))
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as api:
        synced = await api.post("/api/v1/market-data/sync", json={**BTC, "interval": "1h", "n_bars": 10},
                                headers={"X-Correlation-ID": "trace-webhook-1"})
        assert synced.status_code == 200
        letters = []
        for _ in range(100):
            letters = (await api.get("/api/v1/webhooks/dead-letters")).json()
            if letters:
                break
            await asyncio.sleep(0.05)
        [letter] = letters
        assert letter["event_type"] == "bar.synced" and letter["attempts"] == 2
        assert letter["correlation_id"] == "trace-webhook-1"
        assert '"BTCUSDT"' in letter["body"]
