"""The correlation id: taken or made, echoed, and carried by log lines and events of the request."""

import httpx
import pytest

from src.domain.events import BarSyncedEvent


@pytest.fixture
def served(edge_server):
    server, probe = edge_server()
    with httpx.Client(base_url=server.url, timeout=5) as client:
        yield server, probe, client


def test_valid_incoming_id_is_echoed(served):
    _, _, client = served
    response = client.get("/test/ping", headers={"X-Correlation-ID": "req-123:abc.DEF_9"})
    assert response.headers["x-correlation-id"] == "req-123:abc.DEF_9"


@pytest.mark.parametrize("bad", ["has space", "x" * 129, "semi;colon", "ünïcode".encode()])
def test_invalid_incoming_id_is_replaced(served, bad):
    _, _, client = served
    response = client.get("/test/ping", headers={"X-Correlation-ID": bad})
    echoed = response.headers["x-correlation-id"]
    assert echoed != bad
    assert len(echoed) == 32


def test_missing_id_is_generated_and_differs_per_request(served):
    _, _, client = served
    first = client.get("/test/ping").headers["x-correlation-id"]
    second = client.get("/test/ping").headers["x-correlation-id"]
    assert first != second


def test_events_published_while_handling_carry_the_id(served):
    server, _, client = served
    seen: list[BarSyncedEvent] = []
    server.root.event_bus.subscribe(BarSyncedEvent, seen.append)
    response = client.post("/test/publish", headers={"X-Correlation-ID": "evt-77"})
    assert response.json() == {"correlation_id": "evt-77"}
    assert [e.correlation_id for e in seen] == ["evt-77"]


def test_log_lines_of_the_request_carry_the_id(served, captured_logs):
    _, _, client = served
    client.get("/test/raise/crash", headers={"X-Correlation-ID": "log-55"})
    errors = [e for e in captured_logs.events if e.get("event") == "unhandled error"]
    assert errors and errors[0]["correlation_id"] == "log-55"
    assert "RuntimeError" in errors[0]["exception"]  # the stack stays in the server's logs
