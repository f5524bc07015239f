"""Idempotency-Key on POST through real HTTP: replay, conflicts, concurrency, and what is not stored."""

import asyncio
import time

import httpx
import pytest

ORDER = {"symbol": "BINANCE:BTCUSDT", "quantity": 3}
VOLATILE = {"x-correlation-id", "ratelimit-remaining", "ratelimit-reset", "idempotent-replayed", "date"}


@pytest.fixture
def served(edge_server):
    server, probe = edge_server()
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield probe, client


def post(client: httpx.Client, key: str | None, body: dict = ORDER, path: str = "/test/orders", **headers: str):
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(path, json=body, headers=headers)


def test_repeat_replays_the_stored_response_byte_for_byte(served):
    probe, client = served
    first = post(client, "order-1")
    again = post(client, "order-1")
    assert first.status_code == again.status_code == 201
    assert again.content == first.content  # the same generated id: the handler did not run again
    assert probe.orders_run == 1
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    stable = {k: v for k, v in first.headers.items() if k not in VOLATILE}
    assert {k: v for k, v in again.headers.items() if k not in VOLATILE} == stable


def test_same_key_with_another_body_is_422(served):
    probe, client = served
    post(client, "order-2")
    response = post(client, "order-2", {**ORDER, "quantity": 4})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:pocketquant:problem:idempotency-key-reused"
    assert probe.orders_run == 1


@pytest.mark.parametrize("key", ["k" * 256, "has space", "", '"unterminated', "tab\tkey"])
def test_malformed_or_too_long_key_is_400(served, key):
    probe, client = served
    response = post(client, key)
    assert response.status_code == 400
    assert response.json()["type"] == "urn:pocketquant:problem:invalid-idempotency-key"
    assert probe.orders_run == 0


@pytest.mark.parametrize("key", ['"8e03978e-40d5-43e8-bc93-6894a57f9324"', "k" * 255, "abc:def/ghi=="])
def test_sf_string_and_token_keys_are_accepted(served, key):
    _, client = served
    assert post(client, key).status_code == 201
    assert post(client, key).headers["idempotent-replayed"] == "true"


def test_5xx_is_not_stored_so_a_retry_runs_again(served):
    probe, client = served
    assert post(client, "flaky-1", {}, path="/test/flaky").status_code == 503
    retried = post(client, "flaky-1", {}, path="/test/flaky")
    assert retried.status_code == 201
    assert "idempotent-replayed" not in retried.headers
    assert post(client, "flaky-1", {}, path="/test/flaky").headers["idempotent-replayed"] == "true"
    assert probe.flaky_calls == 2


def test_4xx_is_stored_and_replayed(served):
    probe, client = served
    first = post(client, "bad-1", {"symbol": "X"})
    again = post(client, "bad-1", {"symbol": "X"})
    assert first.status_code == again.status_code == 422
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert probe.orders_run == 0  # the body failed validation before the handler


def test_scope_is_key_method_path_and_client(edge_server):
    server, probe = edge_server(trusted_proxies=["127.0.0.0/8"])
    with httpx.Client(base_url=server.url) as client:
        assert post(client, "same").status_code == 201
        assert post(client, "same", {}, path="/test/flaky").status_code == 503  # another path: its own key
        assert post(client, "same", **{"X-Forwarded-For": "203.0.113.9"}).status_code == 201
        assert "idempotent-replayed" not in post(client, "same", **{"X-Forwarded-For": "203.0.113.10"}).headers
    assert probe.orders_run == 3


def test_requests_without_key_or_not_post_are_untouched(served):
    probe, client = served
    post(client, None)
    post(client, None)
    assert probe.orders_run == 2
    assert client.get("/test/ping", headers={"Idempotency-Key": "has space"}).status_code == 200


async def concurrent_posts(urls: list[str], n: int, key: str) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=10) as client:
        return await asyncio.gather(*(
            client.post(urls[i % len(urls)] + "/test/orders?delay=0.3", json=ORDER, headers={"Idempotency-Key": key})
            for i in range(n)
        ))


def assert_ran_once(responses: list[httpx.Response]) -> None:
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) >= 1
    assert set(statuses) <= {201, 409}
    firsts = [r for r in responses if r.status_code == 201 and "idempotent-replayed" not in r.headers]
    assert len(firsts) == 1
    for conflict in (r for r in responses if r.status_code == 409):
        assert conflict.json()["type"] == "urn:pocketquant:problem:idempotency-key-in-use"


def test_concurrent_duplicates_run_the_handler_once(edge_server):
    server, probe = edge_server()
    responses = asyncio.run(concurrent_posts([server.url], 12, "dup-1"))
    assert_ran_once(responses)
    assert probe.orders_run == 1
    with httpx.Client(base_url=server.url) as client:
        replay = client.post("/test/orders?delay=0.3", json=ORDER, headers={"Idempotency-Key": "dup-1"})
    first = next(r for r in responses if r.status_code == 201)
    assert replay.content == first.content


def test_concurrent_duplicates_across_two_servers_sharing_redis_run_once(edge_server, redis_server):
    settings = {"redis_url": redis_server.url}
    first, probe_a = edge_server(**settings)
    second, probe_b = edge_server(**{**settings, "edge_redis_prefix": first.root.settings.edge_redis_prefix})
    responses = asyncio.run(concurrent_posts([first.url, second.url], 12, "dup-redis"))
    assert_ran_once(responses)
    assert probe_a.orders_run + probe_b.orders_run == 1
    with httpx.Client() as client:
        for server in (first, second):
            replay = client.post(
                server.url + "/test/orders?delay=0.3", json=ORDER, headers={"Idempotency-Key": "dup-redis"}
            )
            assert replay.headers["idempotent-replayed"] == "true"


def test_idempotency_store_down_is_503_not_a_silent_second_run(edge_server):
    from tests.fixtures.servers import free_port

    server, probe = edge_server(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    with httpx.Client(base_url=server.url) as client:
        response = post(client, "no-store")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert probe.orders_run == 0


# --- leases: a slow first request keeps its key; a lost claim never runs twice or stores ------------------


async def _slow_first_then_repeat(url: str, key: str) -> tuple[httpx.Response, httpx.Response, httpx.Response]:
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        first = asyncio.create_task(client.post("/test/orders?delay=1.2", json=ORDER, headers={"Idempotency-Key": key}))
        await asyncio.sleep(0.7)  # the first request's lease (0.4 s) would have lapsed by now without renewal
        repeat = await client.post("/test/orders?delay=1.2", json=ORDER, headers={"Idempotency-Key": key})
        done = await first
        replay = await client.post("/test/orders?delay=1.2", json=ORDER, headers={"Idempotency-Key": key})
    return done, repeat, replay


@pytest.mark.parametrize("with_redis", [False, True])
def test_a_first_request_that_outlives_its_lease_keeps_its_key_and_runs_once(edge_server, redis_server, with_redis):
    settings = {"redis_url": redis_server.url} if with_redis else {}
    server, probe = edge_server(idempotency_lock_ttl_s=0.4, **settings)
    first, repeat, replay = asyncio.run(_slow_first_then_repeat(server.url, "slow-1"))
    assert first.status_code == 201
    assert repeat.status_code == 409  # still running: not a second run
    assert probe.orders_run == 1
    assert replay.headers["idempotent-replayed"] == "true" and replay.content == first.content


def test_a_request_that_loses_its_claim_is_cancelled_and_never_overwrites_the_new_holder(edge_server, redis_server):
    import redis as sync_redis

    from src.infrastructure.http.idempotency import scoped_key
    from src.infrastructure.http.idempotency_store import Record, encode, new_token

    server, probe = edge_server(redis_url=redis_server.url, idempotency_lock_ttl_s=0.6)
    store_key = server.root.settings.edge_redis_prefix + "idem:" + scoped_key("taken-1", "POST", "/test/orders",
                                                                              "127.0.0.1")
    foreign = encode(new_token(), Record("someone-else", None))

    async def scenario() -> httpx.Response:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            first = asyncio.create_task(client.post("/test/orders?delay=2", json=ORDER,
                                                    headers={"Idempotency-Key": "taken-1"}))
            await asyncio.sleep(0.1)
            with sync_redis.Redis.from_url(redis_server.url) as r:  # the key was taken over meanwhile
                r.set(store_key, foreign, px=60_000)
            return await first

    started = time.monotonic()
    response = asyncio.run(scenario())
    assert response.status_code == 503
    assert response.json()["type"] == "urn:pocketquant:problem:idempotency-claim-lost"
    assert time.monotonic() - started < 1.5  # cancelled at the first renewal, not after the handler's 2 s
    with sync_redis.Redis.from_url(redis_server.url) as r:
        assert r.get(store_key) == foreign  # the new holder's record is untouched
    metrics = httpx.get(server.url + "/metrics").text
    assert "idempotency_claims_lost_total 1.0" in metrics
    assert probe.orders_run == 1
