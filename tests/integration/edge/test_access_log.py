"""One access line per request (route template, status, duration, client, correlation id), errors logged
with their correlation id, at levels that say how bad it was."""

import json

import httpx
import pytest


@pytest.fixture
def access_lines(edge_server, capsys):
    server, _ = edge_server(log_format="json", log_level="INFO")

    def requests(*calls: tuple[str, str, dict]) -> list[dict]:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            for method, path, headers in calls:
                client.request(method, path, headers=headers)
        server.run(_settle())
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
        return [line for line in lines if line.get("logger") == "http.access"]

    return requests


async def _settle() -> None:
    """One turn of the server's loop: lines are written once per turn."""


def test_every_request_gets_one_line_with_route_template_status_duration_client_and_correlation_id(access_lines):
    [line] = access_lines(("GET", "/test/items/42", {"X-Correlation-ID": "acc-1"}))
    assert line["event"] == "request" and line["level"] == "info"
    assert (line["method"], line["route"], line["status"]) == ("GET", "/test/items/{item_id}", 200)
    assert line["client"] == "127.0.0.1"
    assert line["correlation_id"] == "acc-1"
    assert 0 < line["duration_ms"] < 5_000
    assert line["timestamp"].endswith("Z")
    assert "42" not in line["route"]  # the template, never the raw path (ids, tokens)


def test_client_and_server_errors_are_logged_at_warning_and_error_with_their_correlation_id(access_lines):
    lines = access_lines(
        ("GET", "/test/bars?interval=7x&n_bars=0", {"X-Correlation-ID": "acc-422"}),
        ("GET", "/no/such/route", {"X-Correlation-ID": "acc-404"}),
        ("GET", "/test/raise/upstream-unavailable", {"X-Correlation-ID": "acc-503"}),
        ("GET", "/test/raise/upstream-rejected", {"X-Correlation-ID": "acc-502"}),
        ("GET", "/test/raise/crash", {"X-Correlation-ID": "acc-500"}),
    )
    by_id = {line["correlation_id"]: line for line in lines}
    assert {cid: (line["status"], line["level"]) for cid, line in by_id.items()} == {
        "acc-422": (422, "warning"), "acc-404": (404, "warning"), "acc-503": (503, "error"),
        "acc-502": (502, "error"), "acc-500": (500, "error"),
    }
    assert by_id["acc-404"]["route"] == "<unmatched>"


def test_failed_requests_also_log_why_under_their_correlation_id(edge_server, captured_logs):
    server, _ = edge_server()
    with httpx.Client(base_url=server.url) as client:
        client.get("/test/raise/upstream-unavailable", headers={"X-Correlation-ID": "why-503"})
    why = [e for e in captured_logs.events if e.get("correlation_id") == "why-503" and e["event"] == "request failed"]
    assert why and why[0]["detail"] == "TradingView timed out" and why[0]["status"] == 503


def test_the_access_log_can_be_switched_off(edge_server, capsys):
    server, _ = edge_server(log_format="json", access_log=False)
    with httpx.Client(base_url=server.url) as client:
        client.get("/test/ping")
    assert '"http.access"' not in capsys.readouterr().out
