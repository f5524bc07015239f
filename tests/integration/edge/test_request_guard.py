"""Refusals made from the request's head: untrusted Host (DNS rebinding), cross-site state changes (CSRF),
and bodies over the limit (413, without buffering them)."""

import socket
import time

import httpx
import pytest

from tests.integration.edge.test_problems import assert_problem

ORDER = {"symbol": "BINANCE:BTCUSDT", "quantity": 3}


@pytest.fixture
def client(edge_server):
    server, probe = edge_server(max_request_body_bytes=1024)
    with httpx.Client(base_url=server.url, timeout=10) as client:
        client.probe = probe  # type: ignore[attr-defined]
        yield client


# --- Host -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "10.0.0.7"])
def test_on_loopback_a_foreign_host_header_is_refused(client, host):
    body = assert_problem(client.get("/test/ping", headers={"Host": host}), 400)
    assert body["type"] == "urn:pocketquant:problem:untrusted-host"


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost", "LOCALHOST:1234", "[::1]:8000"])
def test_on_loopback_loopback_names_are_accepted(client, host):
    assert client.get("/test/ping", headers={"Host": host}).status_code == 200


def test_trusted_hosts_name_exact_hosts_and_wildcard_subdomains(edge_server):
    server, _ = edge_server(trusted_hosts=["api.example.com", "*.example.org"])
    with httpx.Client(base_url=server.url) as client:
        def status(host: str) -> int:
            return client.get("/test/ping", headers={"Host": host}).status_code
        assert status("api.example.com") == 200
        assert status("API.example.com:443") == 200
        assert status("eu.example.org") == 200
        assert status("example.org") == 400
        assert status("other.example.com") == 400
        assert status("127.0.0.1") == 400  # once named, only the named hosts


def test_bound_to_all_interfaces_without_trusted_hosts_any_host_is_answered(edge_server):
    server, _ = edge_server(api_host="0.0.0.0", environment="development", auth_jwt_secret="k" * 32)
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/health", headers={"Host": "pocketquant.internal:8000"}).status_code == 200


# --- cross-site state changes ----------------------------------------------------------------------


CROSS_SITE = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}


@pytest.mark.parametrize("headers", [CROSS_SITE, {"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"},
                                     {"Origin": "null"}, {"Sec-Fetch-Site": "same-site"}])
def test_a_cross_site_post_from_a_browser_is_refused(client, headers):
    body = assert_problem(client.post("/test/orders", json=ORDER, headers=headers), 403)
    assert body["type"] == "urn:pocketquant:problem:cross-origin-refused"
    assert client.probe.orders_run == 0


def test_simple_form_posts_to_real_routes_are_refused(client):
    response = client.post("/api/v1/quotes/stop", content=b"a=1", headers={
        **CROSS_SITE, "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 403


@pytest.mark.parametrize("headers", [
    {},  # curl, scripts, bots: no browser headers at all
    {"Sec-Fetch-Site": "same-origin", "Origin": "https://evil.example"},  # the browser's own word wins
    {"Sec-Fetch-Site": "none"},  # typed in the address bar, a bookmark
])
def test_requests_that_are_not_cross_site_pass(client, headers):
    assert client.post("/test/orders", json=ORDER, headers=headers).status_code == 201


def test_an_origin_matching_the_host_passes(client):
    host = client.base_url.netloc.decode()
    assert client.post("/test/orders", json=ORDER, headers={"Origin": f"http://{host}"}).status_code == 201


def test_reads_are_not_refused_cross_site(client):
    assert client.get("/test/ping", headers=CROSS_SITE).status_code == 200


def test_origins_allowed_for_cors_may_change_state(edge_server):
    server, _ = edge_server(cors_origins=["https://app.example"])
    with httpx.Client(base_url=server.url) as client:
        ok = client.post("/test/orders", json=ORDER, headers={"Origin": "https://app.example",
                                                                "Sec-Fetch-Site": "cross-site"})
        refused = client.post("/test/orders", json=ORDER, headers=CROSS_SITE)
    assert (ok.status_code, refused.status_code) == (201, 403)


# --- body size -------------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_a_413_problem(client):
    body = assert_problem(client.post("/test/orders", content=b"x" * 2048,
                                      headers={"Content-Type": "application/json"}), 413)
    assert body["type"] == "urn:pocketquant:problem:request-too-large"
    assert client.probe.orders_run == 0


def test_a_chunked_body_over_the_limit_is_refused_as_it_arrives(client):
    def chunks():
        yield b'{"symbol": "'
        for _ in range(100):
            yield b"x" * 100

    response = client.post("/test/orders", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


def test_a_chunked_body_over_the_limit_is_refused_even_on_idempotent_requests(client):
    response = client.post("/test/orders", content=iter([b"x" * 600, b"x" * 600]),
                           headers={"Content-Type": "application/json", "Idempotency-Key": "big-1"})
    assert response.status_code == 413


def test_a_body_on_a_route_that_takes_none_is_limited_too(client):
    assert client.request("GET", "/test/ping", content=b"x" * 2048).status_code == 413


def test_a_declared_huge_body_is_refused_before_it_is_sent(client):
    """200 MB announced, nothing sent: the answer comes at once, the server never waits for (or keeps) it."""
    host, port = client.base_url.host, client.base_url.port
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(b"POST /test/orders HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 200000000\r\n\r\n")
        started = time.monotonic()
        head = s.recv(4096)
    assert head.startswith(b"HTTP/1.1 413")
    assert time.monotonic() - started < 2


def test_bodies_within_the_limit_pass(client):
    assert client.post("/test/orders", json=ORDER).status_code == 201
