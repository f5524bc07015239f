"""Alerts over HTTP, the whole service (embedded MongoDB, Redis, the TradingView simulator): conditions
validated as problem+json naming the field, the life of a rule through the API, and a crossing streamed by
the simulator that shows up in the rule's trigger history."""

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from src.app.http import create_app

pytestmark = pytest.mark.e2e

T0 = (int(time.time()) // 86_400 + 2) * 86_400  # ticks stamped ahead of the simulator's snapshot
RULE = {"symbol": "BINANCE:BTCUSDT", "condition": {"kind": "price_crosses", "level": 100, "direction": "up"}}


@pytest.fixture
async def alerts_api(e2e_settings, serve_app) -> AsyncIterator[httpx.AsyncClient]:
    server = serve_app(create_app(e2e_settings(alerts_refresh_s=0.1, alerts_flush_s=0.1, live_bar_intervals=["1m"])))
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        yield client


@pytest.mark.parametrize(("body", "field"), [
    ({**RULE, "condition": {"kind": "price_crosses_ma", "average": "wma", "period": 5}, "interval": "1m"},
     "condition.average"),
    ({**RULE, "condition": {"kind": "price_above", "level": "high"}}, "condition.level"),
    ({**RULE, "condition": {"kind": "rsi_above", "level": 70}}, "interval"),
    ({**RULE, "condition": {"kind": "rsi_above", "level": 170}, "interval": "1h"}, "condition.level"),
    ({**RULE, "condition": {"kind": "price_above"}}, "condition.level"),
    ({**RULE, "source": "nowhere"}, "source"),
    ({**RULE, "channels": ["webhook"]}, "channels"),  # no WEBHOOK_URLS here
    ({**RULE, "expires_at": 1_000.0}, "expires_at"),
])
async def test_conditions_that_cannot_be_evaluated_are_refused_naming_the_field(alerts_api, body, field):
    response = await alerts_api.post("/api/v1/alerts", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["field"] == field


async def test_a_rule_through_its_life_over_http(alerts_api):
    created = await alerts_api.post("/api/v1/alerts", json={**RULE, "cooldown_s": 30, "note": "breakout"})
    assert created.status_code == 201, created.text
    rule = created.json()
    assert (rule["status"], rule["evaluated_on"], rule["side"], rule["owner"]) == ("armed", "tick", "unknown", "local")
    path = f"/api/v1/alerts/{rule['id']}"
    assert [r["id"] for r in (await alerts_api.get("/api/v1/alerts")).json()] == [rule["id"]]
    patched = (await alerts_api.patch(path, json={"note": "breakout!", "one_time": True})).json()
    assert (patched["note"], patched["one_time"], patched["cooldown_s"]) == ("breakout!", True, 30)
    replaced = (await alerts_api.put(path, json={**RULE, "condition": {"kind": "rsi_below", "level": 30},
                                                 "interval": "1h"})).json()
    assert (replaced["evaluated_on"], replaced["interval"], replaced["note"]) == ("bar_close", "1h", "")
    assert (await alerts_api.post(f"{path}/disable")).json()["status"] == "disabled"
    assert (await alerts_api.post(f"{path}/enable")).json()["status"] == "armed"
    assert (await alerts_api.get(f"{path}/events")).json() == []
    assert (await alerts_api.delete(path)).status_code == 204
    missing = await alerts_api.get(path)
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


async def test_a_crossing_streamed_by_the_source_is_in_the_rule_s_history(alerts_api, tv_simulator):
    assert (await alerts_api.post("/api/v1/quotes/start")).is_success
    rule = (await alerts_api.post("/api/v1/alerts", json=RULE)).json()
    async with asyncio.timeout(10):
        # the evaluator holds the rule's symbol upstream
        while "BINANCE:BTCUSDT" not in str((await alerts_api.get("/api/v1/quotes/status")).json()):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    await tv_simulator.push_tick("BINANCE:BTCUSDT", 99.0, 1.0, when=T0)
    await asyncio.sleep(0.3)
    await tv_simulator.push_tick("BINANCE:BTCUSDT", 101.0, 2.0, when=T0 + 1)
    async with asyncio.timeout(10):
        while not (events := (await alerts_api.get(f"/api/v1/alerts/{rule['id']}/events")).json()):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    [event] = events
    assert event["values"] == {"price": 101.0, "level": 100.0} and event["late"] is False
    assert event["triggered_at_timestamp"] == T0 + 1 and event["trigger_count"] == 1
    assert (await alerts_api.get(f"/api/v1/alerts/{rule['id']}")).json()["side"] == "above"
    metrics = (await alerts_api.get("/metrics")).text
    for line in ('alert_rules{state="armed"} 1.0', "alert_triggers_total 1.0",
                 'alert_deliveries_total{channel="log"} 1.0'):
        assert line in metrics, line
