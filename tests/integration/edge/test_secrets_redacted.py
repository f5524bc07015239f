"""Webhook URLs with credentials (`user:pass@`, `?token=`) never reach a log line, the dead-letter store or
the dead-letter listing."""

import asyncio
import time

import httpx

from tests.fixtures.servers import free_port

from .test_webhooks import server_dead_letters, server_publish_one


async def test_a_failing_webhook_url_with_credentials_is_logged_stored_and_listed_without_them(edge_server,
                                                                                             captured_logs):
    port = free_port()  # nothing listens there
    url = f"http://bot:hunter2@127.0.0.1:{port}/hook?token=tok-secret&v=1"
    server, _ = edge_server(webhook_urls=[url], webhook_max_attempts=2, webhook_backoff_base_s=0.01,
                            webhook_timeout_s=1.0)
    await server_publish_one(server, "wh-secret")
    deadline = time.monotonic() + 5
    while not (letters := await server_dead_letters(server)):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    async with httpx.AsyncClient(base_url=server.url) as client:
        listed = (await client.get("/api/v1/webhooks/dead-letters")).json()
    captured = captured_logs.events
    [letter] = letters
    assert letter.url == f"http://***@127.0.0.1:{port}/hook?token=***&v=***"
    assert listed[0]["url"] == letter.url
    logged = " ".join(str(event) for event in captured)
    assert "webhook delivery failed for good" in logged
    for text in (logged, str(letter), str(listed)):
        assert "hunter2" not in text and "tok-secret" not in text


async def test_letters_stored_before_redaction_are_listed_redacted(edge_server):
    from src.common.ports import DeadLetter

    server, _ = edge_server()
    store = server.root.core.dead_letters
    letter = DeadLetter("d1", "https://bot:hunter2@hooks.example/in?token=tok-secret", "bar.synced", b"{}", 5,
                        "ClientError: https://bot:hunter2@hooks.example/in?token=tok-secret", "c1", 1.0)
    await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(store.add(letter), server.loop))
    async with httpx.AsyncClient(base_url=server.url) as client:
        [listed] = (await client.get("/api/v1/webhooks/dead-letters")).json()
    assert listed["url"] == "https://***@hooks.example/in?token=***"
    assert "hunter2" not in listed["error"] and "tok-secret" not in listed["error"]
