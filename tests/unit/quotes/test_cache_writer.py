"""`CoalescingCacheWriter`: each flush writes every pending key once, in one batched call, and a failing
cache is counted per key and logged once per period, not once per flush."""

import structlog

from src.features.quotes.writers import CoalescingCacheWriter
from tests.fakes import FakeCache


class BatchRecordingCache(FakeCache):
    def __init__(self, failing: int = 0) -> None:
        super().__init__()
        self.batches: list[list[str]] = []
        self.failing = failing

    async def set_many(self, entries):
        self.batches.append([key for key, _, _ in entries])
        if self.failing:
            return self.failing
        return await super().set_many(entries)


async def test_a_flush_writes_every_pending_key_once_in_one_batch_with_its_latest_value():
    cache = BatchRecordingCache()
    writer = CoalescingCacheWriter(cache)
    for n in range(300):
        writer.mark(f"k{n % 100}", lambda n=n: n, 60)
    await writer.flush()
    assert cache.batches == [[f"k{n}" for n in range(100)]]
    assert cache.values == {f"k{n}": 200 + n for n in range(100)} and writer.writes == 100


async def test_failed_writes_are_counted_per_key_and_logged_once_per_period():
    cache = BatchRecordingCache(failing=3)
    writer = CoalescingCacheWriter(cache)
    with structlog.testing.capture_logs() as logs:
        for _ in range(5):
            for n in range(10):
                writer.mark(f"k{n}", lambda: 1, 60)
            await writer.flush()
    assert writer.failures == 15 and writer.writes == 35
    assert [entry["event"] for entry in logs] == ["quote_cache_write_failed"]
