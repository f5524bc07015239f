"""The token bucket through real HTTP: in process, shared through Redis by two servers, failing open."""

import asyncio
import math
import time

import httpx

from tests.fixtures.servers import free_port


async def burst(url: str, n: int, *, headers: dict[str, str] | None = None) -> tuple[list[httpx.Response], float]:
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10) as client:
        started = time.monotonic()
        responses = await asyncio.gather(*(client.get("/test/ping", headers=headers) for _ in range(n)))
        return list(responses), time.monotonic() - started


def test_burst_of_250_accepts_the_capacity_plus_refill_and_rejects_the_rest(edge_server):
    server, _ = edge_server()  # defaults: capacity 200, refill 20/s
    responses, elapsed = asyncio.run(burst(server.url, 250))
    ok = [r for r in responses if r.status_code == 200]
    limited = [r for r in responses if r.status_code == 429]
    assert len(ok) + len(limited) == 250
    assert 200 <= len(ok) <= 200 + math.ceil(elapsed * 20) + 1
    for response in limited:
        assert response.headers["content-type"] == "application/problem+json"
        assert int(response.headers["retry-after"]) >= 1
        assert response.headers["ratelimit-limit"] == "200"
        assert response.headers["ratelimit-remaining"] == "0"
        assert int(response.headers["ratelimit-reset"]) >= 1
        assert response.json()["type"] == "urn:pocketquant:problem:rate-limited"
    remaining = sorted(int(r.headers["ratelimit-remaining"]) for r in ok if "ratelimit-remaining" in r.headers)
    assert remaining[0] == 0 and remaining[-1] == 99  # on 2xx once half the bucket is spent
    assert all(r.headers["ratelimit-limit"] == "200" for r in ok if "ratelimit-remaining" in r.headers)


def test_rate_limit_headers_on_every_response_when_configured(edge_server):
    server, _ = edge_server(rate_limit_headers_always=True)
    response = httpx.get(server.url + "/test/ping")
    assert response.headers["ratelimit-limit"] == "200"
    assert response.headers["ratelimit-remaining"] == "199"
    assert response.headers["ratelimit-reset"] == "1"


def test_health_and_metrics_are_exempt(edge_server):
    server, _ = edge_server(rate_limit_capacity=1, rate_limit_refill_per_s=0.01)
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/test/ping").status_code == 200
        assert client.get("/test/ping").status_code == 429
        assert [client.get("/health").status_code for _ in range(3)] == [200, 200, 200]
        assert client.get("/metrics").status_code == 200
        assert "ratelimit-limit" not in client.get("/health").headers


def test_forwarded_for_is_believed_only_from_trusted_proxies(edge_server):
    trusted, _ = edge_server(
        rate_limit_capacity=1, rate_limit_refill_per_s=0.01, trusted_proxies=["127.0.0.0/8"]
    )
    untrusted, _ = edge_server(
        rate_limit_capacity=1, rate_limit_refill_per_s=0.01, trusted_proxies=["10.9.0.0/16"]
    )
    with httpx.Client(base_url=trusted.url) as client:
        a = {"X-Forwarded-For": "203.0.113.7"}
        b = {"X-Forwarded-For": "198.51.100.1, 127.0.0.1"}
        assert client.get("/test/ping", headers=a).status_code == 200
        assert client.get("/test/ping", headers=a).status_code == 429
        assert client.get("/test/ping", headers=b).status_code == 200  # another client behind the proxy
    with httpx.Client(base_url=untrusted.url) as client:
        assert client.get("/test/ping", headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 200
        assert client.get("/test/ping", headers={"X-Forwarded-For": "203.0.113.8"}).status_code == 429


def test_two_servers_sharing_redis_share_one_bucket(edge_server, redis_server):
    settings = {
        "redis_url": redis_server.url,
        "rate_limit_capacity": 20,
        "rate_limit_refill_per_s": 0.5,
        "edge_redis_prefix": f"test:shared:{time.monotonic_ns()}:",
    }
    first, _ = edge_server(**settings)
    second, _ = edge_server(**settings)
    statuses = []
    with httpx.Client() as client:
        for i in range(40):
            server = first if i % 2 == 0 else second
            statuses.append((i % 2, client.get(server.url + "/test/ping").status_code))
    accepted = [s for _, s in statuses if s == 200]
    assert 20 <= len(accepted) <= 21
    assert {worker for worker, s in statuses if s == 429} == {0, 1}  # both servers saw the shared bucket empty


def test_redis_down_fails_open_and_counts_it(edge_server):
    server, _ = edge_server(
        redis_url=f"redis://127.0.0.1:{free_port()}/0", rate_limit_capacity=1, redis_timeout_s=0.5
    )
    with httpx.Client(base_url=server.url) as client:
        assert [client.get("/test/ping").status_code for _ in range(5)] == [200] * 5
        metrics = client.get("/metrics").text
    assert "rate_limit_fail_open_total 5.0" in metrics
