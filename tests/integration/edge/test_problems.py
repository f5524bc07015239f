"""Every error leaves as RFC 9457 application/problem+json, through real HTTP."""

import httpx
import pytest

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "correlation_id"}


@pytest.fixture
def client(edge_server):
    server, _ = edge_server()
    with httpx.Client(base_url=server.url, timeout=5) as client:
        yield client


def assert_problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body.keys() >= PROBLEM_KEYS
    assert body["status"] == status
    assert body["instance"] == response.request.url.path
    assert body["correlation_id"] == response.headers["x-correlation-id"]
    return body


def test_validation_errors_name_every_failing_field(client):
    response = client.get("/test/bars", params={"interval": "7x", "n_bars": 0, "start": "yesterday"})
    body = assert_problem(response, 422)
    assert body["type"] == "urn:pocketquant:problem:validation-error"
    assert {e["field"] for e in body["errors"]} == {"interval", "n_bars", "start"}
    assert all(e["message"] for e in body["errors"])


def test_invalid_json_body_is_a_validation_problem(client):
    response = client.post("/test/orders", json={"symbol": "X"})
    body = assert_problem(response, 422)
    assert [e["field"] for e in body["errors"]] == ["quantity"]


def test_domain_error_is_422_with_its_field(client):
    body = assert_problem(client.get("/test/raise/domain"), 422)
    assert body["field"] == "interval"
    assert body["errors"] == [{"field": "interval", "message": "unknown interval '7m'"}]


@pytest.mark.parametrize(
    ("kind", "status", "slug"),
    [
        ("symbol-not-found", 404, "not-found"),
        ("conflict", 409, "conflict"),
        ("upstream-unavailable", 503, "upstream-unavailable"),
        ("store-unavailable", 503, "store-unavailable"),
        ("upstream-rejected", 502, "upstream-rejected"),
    ],
)
def test_application_errors_map_to_their_status(client, kind, status, slug):
    body = assert_problem(client.get(f"/test/raise/{kind}"), status)
    assert body["type"] == f"urn:pocketquant:problem:{slug}"


def test_symbol_not_found_keeps_title_and_field(client):
    body = assert_problem(client.get("/test/raise/symbol-not-found"), 404)
    assert body["title"] == "SymbolNotFound"
    assert body["field"] == "symbol"
    assert body["detail"] == "BINANCE:NOPE is not listed"


def test_unknown_route_is_404_problem(client):
    body = assert_problem(client.get("/no/such/route"), 404)
    assert body["type"] == "about:blank"
    assert body["title"] == "Not Found"


def test_wrong_method_is_405_problem_with_allow(client):
    response = client.delete("/test/ping")
    assert_problem(response, 405)
    assert response.headers["allow"] == "GET"


def test_unhandled_exception_is_500_with_correlation_id_and_no_stack(client):
    response = client.get("/test/raise/crash", headers={"X-Correlation-ID": "crash-42"})
    body = assert_problem(response, 500)
    assert body["correlation_id"] == "crash-42"
    assert body["type"] == "urn:pocketquant:problem:internal-error"
    assert "Traceback" not in response.text
    assert "passwd" not in response.text
    assert "RuntimeError" not in response.text
