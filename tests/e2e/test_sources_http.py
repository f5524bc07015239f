"""Issue 15 end to end through HTTP: Binance and Yahoo Finance beside TradingView, each served by its simulator.
The same `BINANCE:BTCUSDT` from TradingView and from Binance is two series; Yahoo's marked tickers go through
URLs; search spans sources; a tracked symbol is synced by the job from its own source; live quotes from Binance;
an open circuit is a 503 naming its source, visible in /health and /metrics, leaving the other sources alone."""

import asyncio
import time

import httpx
import orjson
import pytest
from websockets.asyncio.client import connect

from src.app.http import create_app
from src.domain.market_data import Interval
from tests.integration.providers.sources import binance_klines

pytestmark = pytest.mark.e2e
MARKET = "/api/v1/market-data"
BTC = {"exchange": "BINANCE", "symbol": "BTCUSDT"}


@pytest.fixture
def sources_settings(e2e_settings, binance_simulator, yahoo_simulator):
    def build(**overrides):
        return e2e_settings(binance_api_url=binance_simulator.api_url, binance_stream_url=binance_simulator.stream_url,
                            yahoo_base_url=yahoo_simulator.base_url, yahoo_cookie_url=yahoo_simulator.base_url + "/",
                            yahoo_requests_per_minute=6_000, **overrides)

    return build


@pytest.fixture
async def api(sources_settings, serve_app):
    server = serve_app(create_app(sources_settings()))
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        yield client


async def sync(api, source: str, n_bars: int = 300, interval: str = "1m", **series) -> httpx.Response:
    body = {**(series or BTC), "interval": interval, "n_bars": n_bars, "source": source}
    return await api.post(f"{MARKET}/sync", json=body)


async def bars(api, path: str, **params) -> list[dict]:
    response = await api.get(f"{MARKET}/ohlcv/{path}", params={"limit": 5000, **params})
    assert response.status_code == 200, response.text
    return response.json()["bars"]


async def test_the_same_pair_from_tradingview_and_from_binance_is_two_series_read_back_separately(
        api, tv_simulator, binance_simulator):
    for source in ("tradingview", "binance"):
        synced = await sync(api, source)
        assert synced.status_code == 200, synced.text
        assert (synced.json()["source"], synced.json()["bars_written"]) == (source, 300)
    from_tv = await bars(api, "BINANCE/BTCUSDT", interval="1m", source="tradingview")
    from_binance = await bars(api, "BINANCE/BTCUSDT", interval="1m", source="binance")
    tv_rows = tv_simulator.market.history("BINANCE:BTCUSDT", Interval.M1)[-300:]
    assert [(b["timestamp"], b["close"]) for b in from_tv] == [(int(r[0]), r[4]) for r in tv_rows]
    klines = await binance_klines(binance_simulator, "BTCUSDT", "1m", startTime=from_binance[0]["timestamp"] * 1000,
                                  endTime=from_binance[-2]["timestamp"] * 1000)
    assert [(b["timestamp"], b["close"]) for b in from_binance[:-1]] == [(k[0] // 1000, float(k[4])) for k in klines]
    assert [b["close"] for b in from_tv] != [b["close"] for b in from_binance]
    statuses = (await api.get(f"{MARKET}/sync-status", params={"symbol": "BTCUSDT"})).json()
    assert sorted(s["source"] for s in statuses) == ["binance", "tradingview"]
    only = (await api.get(f"{MARKET}/sync-status", params={"source": "binance"})).json()
    assert [(s["source"], s["status"]) for s in only] == [("binance", "completed")]


async def test_yahoo_tickers_with_marks_sync_and_read_back_through_urls(api):
    index = await sync(api, "yahoo", 50, "1d", exchange="YAHOO", symbol="^GSPC")
    assert index.status_code == 200, index.text
    assert index.json()["symbol"] == "^GSPC"
    assert len(await bars(api, "YAHOO/%5EGSPC", interval="1d", source="yahoo")) == 50
    crypto = await sync(api, "yahoo", 40, "3h", exchange="YAHOO", symbol="BTC-USD")
    assert crypto.json()["bars_written"] == 40
    stored = await bars(api, "YAHOO/BTC-USD", interval="3h", source="yahoo")
    assert {b["timestamp"] % 10_800 for b in stored} == {0}
    wrong = await sync(api, "yahoo", 10, "1d", exchange="NASDAQ", symbol="AAPL")
    assert wrong.status_code == 404 and "YAHOO:<ticker>" in wrong.json()["detail"]


async def test_search_without_a_source_spans_every_source_and_names_each(api):
    found = (await api.get(f"{MARKET}/symbols/search", params={"q": "BTC"})).json()
    by_source = {m["source"] for m in found}
    assert by_source == {"tradingview", "binance", "yahoo"}
    yahoo = next(m for m in found if m["source"] == "yahoo")
    assert (yahoo["exchange"], yahoo["symbol"]) == ("YAHOO", "BTC-USD")


async def test_a_tracked_symbol_is_synced_by_the_job_from_its_own_source(api, binance_simulator):
    tracked = await api.post(f"{MARKET}/symbols", json={"source": "binance", "exchange": "BINANCE",
                                                          "symbol": "ETHUSDT", "intervals": ["45m"]})
    assert tracked.status_code == 201, tracked.text
    assert tracked.json()["description"] == "ETH / USDT"
    run = (await api.post("/api/v1/jobs/sync_all_symbols/run")).json()
    assert run["outcome"] == "ok", run
    status = (await api.get(f"{MARKET}/sync-status/BINANCE/ETHUSDT/45m", params={"source": "binance"})).json()
    assert status["status"] == "completed" and status["coverage"]["bar_count"] == 500
    assert binance_simulator.request_count("/api/v3/klines") >= 2  # 1,500 15m klines for 500 45m bars


async def test_live_binance_trades_become_quotes_and_a_bar_with_their_volume(api, binance_simulator):
    body = {"source": "binance", "symbols": ["BINANCE:BTCUSDT"], "intervals": ["1m"]}
    subscribed = await api.post("/api/v1/quotes/subscribe", json=body)
    assert subscribed.status_code == 200, subscribed.text
    assert subscribed.json()["subscriptions"] == [{"source": "binance", "symbol": "BINANCE:BTCUSDT"}]
    t0 = (int(time.time()) // 86_400 + 2) * 86_400  # two days ahead: nothing else trades in that minute
    ws_url = str(api.base_url).replace("http://", "ws://") + "/api/v1/ws/quotes"
    async with connect(ws_url) as ws:
        await ws.send(orjson.dumps({"action": "subscribe", **body}).decode())
        answer = orjson.loads(await ws.recv())
        assert (answer["type"], answer["source"], answer["symbols"]) == ("subscribed", "binance", ["BINANCE:BTCUSDT"])
        for index, (price, quantity) in enumerate((("70000.00", "0.5"), ("70100.00", "0.25"), ("69900.00", "1"))):
            await binance_simulator.push_trade("BTCUSDT", price, quantity, time_ms=(t0 + index * 10) * 1000)
        async with asyncio.timeout(5):
            while (frame := orjson.loads(await ws.recv())).get("price") != 69_900.0:
                pass
        assert (frame["type"], frame["source"], frame["symbol"]) == ("quote", "binance", "BINANCE:BTCUSDT")
        assert frame["volume"] == pytest.approx(1.75)  # the total traded since subscribing
    deadline = time.monotonic() + 5
    while True:
        bar = (await api.get("/api/v1/quotes/current-bar/BINANCE/BTCUSDT",
                             params={"interval": "1m", "source": "binance"})).json()
        if (bar.get("timestamp") == t0 and bar["close"] == 69_900.0) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    assert (bar["open"], bar["high"], bar["low"], bar["close"]) == (70_000.0, 70_100.0, 69_900.0, 69_900.0)
    assert bar["volume"] == pytest.approx(1.75)
    latest = (await api.get("/api/v1/quotes/latest/BINANCE/BTCUSDT", params={"source": "binance"})).json()
    assert (latest["price"], latest["timestamp"]) == (69_900.0, t0 + 20)


async def test_an_open_circuit_is_a_503_naming_its_source_shown_in_health_and_metrics(
        sources_settings, serve_app, binance_simulator):
    server = serve_app(create_app(sources_settings(source_breaker_failures=2, source_breaker_open_s=60)))
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as api:
        binance_simulator.faults.error_rate = 1.0
        for _ in range(2):
            assert (await sync(api, "binance")).status_code == 503
        sent = binance_simulator.request_count("/api/v3/klines")
        refused = await sync(api, "binance")
        assert refused.status_code == 503 and 55 <= int(refused.headers["retry-after"]) <= 60
        problem = refused.json()
        assert (problem["source"], problem["type"]) == ("binance", "urn:pocketquant:problem:upstream-unavailable")
        assert binance_simulator.request_count("/api/v3/klines") == sent
        assert (await sync(api, "tradingview")).status_code == 200  # another source is unaffected
        health = await api.get("/health")
        components = health.json()["components"]
        assert health.status_code == 503 and health.json()["down"] == ["source-binance"]
        assert components["source-tradingview"]["healthy"] and components["source-yahoo"]["healthy"]
        assert "open" in components["source-binance"]["detail"]
        metrics = (await api.get("/metrics")).text
        assert 'source_circuit_state{source="binance"} 2.0' in metrics
        assert 'source_circuit_state{source="tradingview"} 0.0' in metrics
        assert 'source_requests_refused_total{source="binance"} 1.0' in metrics
