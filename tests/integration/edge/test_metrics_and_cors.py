"""`/metrics` moves with the traffic (by route template) and CORS is closed unless configured."""

import httpx
from prometheus_client.parser import text_string_to_metric_families

from src.domain.events import BarCompletedEvent, BarSyncedEvent
from src.domain.indicators.events import IndicatorsUpdatedEvent


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, frozenset(labels.items())), 0.0)


def test_requests_are_counted_by_route_template_and_timed(edge_server):
    server, _ = edge_server()
    with httpx.Client(base_url=server.url) as client:
        client.get("/test/items/1")
        client.get("/test/items/2")
        client.get("/test/items/nope")
        client.get("/no/such/route")
        text = client.get("/metrics").text
    assert value(text, "http_requests_total", method="GET", route="/test/items/{item_id}", status="200") == 2
    assert value(text, "http_requests_total", method="GET", route="/test/items/{item_id}", status="422") == 1
    assert value(text, "http_requests_total", method="GET", route="<unmatched>", status="404") == 1
    assert value(text, "http_request_duration_seconds_count", method="GET", route="/test/items/{item_id}") == 3
    assert "/test/items/1" not in text


def test_edge_counters_move(edge_server):
    server, _ = edge_server(rate_limit_capacity=3, rate_limit_refill_per_s=0.01)
    seen: list[object] = []
    server.root.event_bus.subscribe(BarSyncedEvent, seen.append)
    with httpx.Client(base_url=server.url) as client:
        client.post("/test/orders", json={"symbol": "X", "quantity": 1}, headers={"Idempotency-Key": "m"})
        client.post("/test/orders", json={"symbol": "X", "quantity": 1}, headers={"Idempotency-Key": "m"})
        before = client.get("/metrics").text
        client.post("/test/publish")
        client.get("/test/ping")
        text = client.get("/metrics").text
    assert value(text, "idempotent_replays_total") == 1
    assert value(text, "rate_limit_rejections_total") == 1
    subscribers = len(server.root.event_bus.subscribers(BarSyncedEvent))
    subscribers += len(server.root.event_bus.subscribers(BarCompletedEvent))
    # The completed bar advances the live indicators, whose update goes to its own subscribers.
    subscribers += len(server.root.event_bus.subscribers(IndicatorsUpdatedEvent))
    delivered = value(text, "eventbus_deliveries_total") - value(before, "eventbus_deliveries_total")
    assert delivered == subscribers  # ours and whatever the composition root subscribed
    assert value(text, "eventbus_subscriber_failures_total") == 0
    for name in ("quote_ticks_aggregated_total", "provider_reconnections_total", "syncs_total"):
        assert f"# TYPE {name} counter" in text
    assert 'provider_reconnections_total{source="tradingview"} 0.0' in text
    for dead in ("ticks_received_total", "quotes_received_total", "tradingview_reconnects_total"):
        assert dead not in text  # exported once and never incremented: gone


def test_metrics_object_is_per_app_and_takes_other_counters(edge_server):
    first, _ = edge_server()
    second, _ = edge_server()
    metrics = first.root.metrics
    assert metrics.registry is not second.root.metrics.registry
    metrics.syncs.labels("completed").inc()
    metrics.observe_cache(hits=lambda: 7, misses=lambda: 2)
    text = httpx.get(first.url + "/metrics").text
    assert value(text, "syncs_total", outcome="completed") == 1
    assert value(text, "cache_hits_total") == 7
    assert value(text, "cache_misses_total") == 2
    assert value(httpx.get(second.url + "/metrics").text, "syncs_total", outcome="completed") == 0


PREFLIGHT = {
    "Origin": "https://app.example",
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type,idempotency-key",
}


def test_cors_is_closed_by_default(edge_server):
    server, _ = edge_server()
    with httpx.Client(base_url=server.url) as client:
        preflight = client.options("/test/orders", headers=PREFLIGHT)
        simple = client.get("/test/ping", headers={"Origin": "https://app.example"})
    assert "access-control-allow-origin" not in preflight.headers
    assert preflight.status_code == 405
    assert "access-control-allow-origin" not in simple.headers


def test_cors_opens_for_configured_origins_only(edge_server):
    server, _ = edge_server(cors_origins=["https://app.example"])
    with httpx.Client(base_url=server.url) as client:
        preflight = client.options("/test/orders", headers=PREFLIGHT)
        simple = client.get("/test/ping", headers={"Origin": "https://app.example"})
        other = client.get("/test/ping", headers={"Origin": "https://evil.example"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://app.example"
    assert "idempotency-key" in preflight.headers["access-control-allow-headers"].lower()
    assert simple.headers["access-control-allow-origin"] == "https://app.example"
    assert "x-correlation-id" in simple.headers["access-control-expose-headers"].lower()
    assert "access-control-allow-origin" not in other.headers


def test_observing_the_same_counter_twice_exports_it_once(edge_server):
    server, _ = edge_server()
    server.root.metrics.observe_event_bus(server.root.event_bus)
    text = httpx.get(server.url + "/metrics").text
    assert text.count("# TYPE eventbus_deliveries_total counter") == 1
