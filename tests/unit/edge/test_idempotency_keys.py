"""Idempotency-Key parsing and the in-process store's claim/complete/release rules."""

import pytest

from src.infrastructure.http.idempotency import parse_idempotency_key, scoped_key
from src.infrastructure.http.idempotency_store import InProcessIdempotencyStore, Record, StoredResponse


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'"8e03978e-40d5-43e8-bc93-6894a57f9324"', "8e03978e-40d5-43e8-bc93-6894a57f9324"),
        (b"plain-token_1.2", "plain-token_1.2"),
        (b'"with spaces inside"', "with spaces inside"),
        (b"k" * 255, "k" * 255),
    ],
)
def test_valid_keys(raw, expected):
    assert parse_idempotency_key(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [b"", b'""', b"k" * 256, b'"' + b"k" * 256 + b'"', b"has space", b'"unterminated', b'"a\\"b"',
     "ключ".encode(), b"tab\tkey", b"a,b"],
)
def test_invalid_keys(raw):
    assert parse_idempotency_key(raw) is None


def test_scope_includes_client_method_and_path():
    base = scoped_key("k", "POST", "/a", "1.1.1.1")
    assert base == scoped_key("k", "POST", "/a", "1.1.1.1")
    assert len({base, scoped_key("k", "POST", "/b", "1.1.1.1"), scoped_key("k", "POST", "/a", "2.2.2.2"),
                scoped_key("k", "PUT", "/a", "1.1.1.1"), scoped_key("j", "POST", "/a", "1.1.1.1")}) == 5


class FakeClock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


DONE = Record("fp", StoredResponse(201, [(b"content-type", b"application/json")], b"{}"))


async def test_claim_then_repeat_sees_running_then_done():
    store = InProcessIdempotencyStore(clock=FakeClock())
    token, existing = await store.begin("k", "fp", 60)
    assert token and existing is None
    assert await store.begin("k", "fp", 60) == (None, Record("fp", None))
    await store.complete("k", token, DONE, 3600)
    assert await store.begin("k", "fp", 60) == (None, DONE)


async def test_release_frees_the_key():
    store = InProcessIdempotencyStore(clock=FakeClock())
    token, _ = await store.begin("k", "fp", 60)
    await store.release("k", token)
    assert (await store.begin("k", "fp", 60))[0] is not None


async def test_expired_lock_is_claimable_and_the_old_owner_cannot_complete():
    clock = FakeClock()
    store = InProcessIdempotencyStore(clock=clock)
    old, _ = await store.begin("k", "fp", 60)
    clock.now = 61
    new, _ = await store.begin("k", "fp", 60)
    assert new is not None and new != old
    assert not await store.complete("k", old, DONE, 3600)  # refused: no longer the owner
    assert not await store.renew("k", old, 60)
    assert not await store.release("k", old)
    assert await store.begin("k", "fp", 60) == (None, Record("fp", None))


async def test_stored_response_expires_after_ttl():
    clock = FakeClock()
    store = InProcessIdempotencyStore(clock=clock)
    token, _ = await store.begin("k", "fp", 60)
    await store.complete("k", token, DONE, 86_400)
    clock.now = 86_401
    assert (await store.begin("k", "fp", 60))[0] is not None


async def test_store_stays_bounded():
    store = InProcessIdempotencyStore(max_entries=50, clock=FakeClock())
    for i in range(500):
        await store.begin(f"k{i}", "fp", 60)
    assert len(store._entries) <= 50


async def test_renewing_keeps_the_claim_past_its_first_lease():
    clock = FakeClock()
    store = InProcessIdempotencyStore(clock=clock)
    token, _ = await store.begin("k", "fp", 60)
    for _ in range(5):
        clock.now += 40
        assert await store.renew("k", token, 60)
    assert await store.begin("k", "fp", 60) == (None, Record("fp", None))  # still held after 200 s
    assert await store.complete("k", token, DONE, 3600)
