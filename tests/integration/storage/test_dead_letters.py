from src.common.ports import DeadLetter
from src.infrastructure.mongo.dead_letter_repository import MongoDeadLetterStore


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
