from dataclasses import replace

from src.common.ports import DeadLetter, OutboxDelivery
from src.infrastructure.mongo.dead_letter_repository import MongoDeadLetterStore
from src.infrastructure.mongo.webhook_outbox import MongoWebhookOutbox


def _letter(n: int) -> DeadLetter:
    return DeadLetter(
        delivery_id=f"d{n}", url="http://127.0.0.1:9/hook", event_type="bar.synced",
        body=b'{"n": %d}' % n, attempts=5, error="ConnectionRefused", correlation_id=f"c{n}", failed_at=1000.0 + n,
    )


async def test_dead_letters_round_trip_newest_first_and_survive_a_new_store(mongo_db):
    store = MongoDeadLetterStore(mongo_db)
    await store.ensure_indexes()
    await store.ensure_indexes()  # idempotent
    for n in range(3):
        await store.add(_letter(n))
    await store.add(_letter(1))  # the same delivery recorded twice stays one letter
    letters = await MongoDeadLetterStore(mongo_db).list()
    assert [letter.delivery_id for letter in letters] == ["d2", "d1", "d0"]
    assert letters[0] == _letter(2)
    assert len(await store.list(limit=2)) == 2


async def test_a_dead_letter_is_found_by_id_and_removed(mongo_db):
    store = MongoDeadLetterStore(mongo_db)
    for n in range(2):
        await store.add(_letter(n))
    assert await store.get("d1") == _letter(1)
    assert await store.get("nope") is None
    await store.remove(replace(_letter(1), failed_at=5000.0))  # a newer failure of d1 is not this letter
    assert await store.get("d1") == _letter(1)
    await store.remove(_letter(1))
    await store.remove(_letter(1))  # already gone: nothing happens
    assert [letter.delivery_id for letter in await store.list()] == ["d0"]


async def test_the_outbox_round_trips_and_leases_each_delivery_to_one_claimer(mongo_db):
    outbox = MongoWebhookOutbox(mongo_db)
    await outbox.ensure_indexes()
    deliveries = [OutboxDelivery(f"o{n}", "http://127.0.0.1:9/hook", "bar.synced", b'{"n": %d}' % n, f"c{n}",
                                 created_at=10.0, next_attempt_at=100.0 + n) for n in range(3)]
    await outbox.add(deliveries)
    assert await outbox.claim_due("a", now=99.0, lease_s=30, limit=10) == []  # none due yet
    assert await outbox.claim_due("a", now=101.0, lease_s=30, limit=10) == deliveries[:2]
    assert await outbox.claim_due("b", now=102.0, lease_s=30, limit=10) == deliveries[2:]  # the rest only
    retry = replace(deliveries[0], attempts=1, last_error="HTTP 500", next_attempt_at=140.0)
    await outbox.retry_later(retry, "a")
    await outbox.remove("o1")
    await outbox.release("b")
    assert await outbox.claim_due("c", now=135.0, lease_s=30, limit=10) == deliveries[2:]  # released by b
    assert await outbox.claim_due("c", now=141.0, lease_s=30, limit=10) == [retry]
    assert await outbox.pending() == 2
