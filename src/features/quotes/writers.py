"""Background writers that keep storage latency off the tick path.

* `CoalescingCacheWriter`: the tick path marks a cache key dirty with a renderer; a background task
  writes each dirty key once per period with the value rendered at write time, every key of the period in
  one batched call (`Cache.set_many`: a pipeline per few hundred keys on one Redis connection), so
  1,000 ticks/s on 200 symbols cost a few round trips per period, not one per key. `stop()` writes
  whatever is still pending: the last value always lands.
* `BarWriter`: bars to persist are queued; a background task drains the queue in batches, one
  `OHLCVRepository.upsert` per series, then publishes `BarCompletedEvent` for the completed bars it wrote
  and invalidates that series' cached queries. `stop()` drains the queue.

Bar write rule (`OHLCVBar.supersedes`): a complete bar is written unconditionally (it replaces a partial
one); a partial bar (not seeded, started mid-period or cut short by a stop) is written only when nothing,
or only a partial bar, is stored at its time: it never replaces a complete stored bar.
"""

import asyncio
import contextlib
import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import structlog

from src.common import cache_keys
from src.common.event_bus import EventBus
from src.common.ports import Cache, Clock, OHLCVRepository
from src.domain.events import BarCompletedEvent
from src.domain.market_data import SeriesKey
from src.domain.realtime.aggregator import BarUpdate

log = structlog.get_logger("quotes.writers")

Renderer = Callable[[], Any]
WARN_EVERY_S = 10.0  # a cache outage logs one line per this period, not one per flush


class BackgroundFlush(ABC):
    """A background task that runs `flush_once()` a period after it is woken, so a burst of work
    is handled in one batch; `stop()` ends the task and runs `final_flush()` so nothing is left behind."""

    def __init__(self, name: str, period_s: float) -> None:
        self._name = name
        self._period_s = period_s
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name=self._name)

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        await self.final_flush()

    async def _run(self) -> None:
        while not self._stopping:
            await self._wake.wait()
            if not self._stopping:
                await asyncio.sleep(self._period_s)  # let the burst gather
            await self.flush_once()  # clears the wake-up before taking its batch

    @abstractmethod
    async def flush_once(self) -> None: ...

    async def final_flush(self) -> None:
        await self.flush_once()


class CoalescingCacheWriter(BackgroundFlush):
    def __init__(self, cache: Cache, *, period_s: float = 0.05) -> None:
        super().__init__("quotes-cache-writer", period_s)
        self._cache = cache
        self._pending: dict[str, tuple[Renderer, float]] = {}
        self.writes = 0
        self.failures = 0
        self._unreported = 0
        self._warned_at = -math.inf

    def mark(self, key: str, render: Renderer, ttl_seconds: float) -> None:
        """Write `render()` to `key` at the next flush (a later mark of the same key replaces this one)."""
        self._pending[key] = (render, ttl_seconds)
        self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def flush_once(self) -> None:
        await self.flush()

    async def flush(self) -> None:
        """Write the pending keys now, each once, rendered now, in batched round trips (`Cache.set_many`)."""
        self._wake.clear()
        batch, self._pending = self._pending, {}
        if not batch:
            return
        failed = await self._cache.set_many([(key, render(), ttl) for key, (render, ttl) in batch.items()])
        self.writes += len(batch) - failed
        if failed:
            self.failures += failed
            self._warn(failed, len(batch))

    def _warn(self, failed: int, keys: int) -> None:
        """One warning per `WARN_EVERY_S` at most, with the failures counted since the previous one."""
        self._unreported += failed
        now = asyncio.get_running_loop().time()
        if now - self._warned_at >= WARN_EVERY_S:
            log.warning("quote_cache_write_failed", failed=self._unreported, batch=keys, total=self.failures)
            self._warned_at, self._unreported = now, 0


class BarWriter(BackgroundFlush):
    """Persists bars in per-series batches off the tick path; see the module docstring for the rule."""

    def __init__(
        self,
        bars: OHLCVRepository,
        cache: Cache,
        event_bus: EventBus,
        clock: Clock,
        *,
        period_s: float = 0.05,
        retry_delay_s: float = 0.5,
        max_attempts: int = 3,
        concurrency: int = 8,
    ) -> None:
        super().__init__("quotes-bar-writer", period_s)
        self._bars = bars
        self._cache = cache
        self._event_bus = event_bus
        self._clock = clock
        self._retry_delay_s = retry_delay_s
        self._max_attempts = max_attempts
        self._gate = asyncio.Semaphore(concurrency)
        self._queue: list[tuple[BarUpdate, int]] = []  # (update, failed attempts so far)
        self.written = 0  # bars upserted
        self.skipped = 0  # partial bars not written because a complete bar was stored at their time
        self.dropped = 0  # bars given up on after max_attempts failed writes

    def put(self, update: BarUpdate) -> None:
        self._queue.append((update, 0))
        self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._queue)

    async def flush_once(self) -> None:
        await self.drain()
        if any(attempts for _, attempts in self._queue) and not self._stopping:
            await asyncio.sleep(self._retry_delay_s)  # the store is failing: back off
            self._wake.set()

    async def final_flush(self) -> None:
        """On stop: one more attempt for anything still queued, then give up on it."""
        await self.drain(retry=False)

    async def drain(self, *, retry: bool = True) -> None:
        """Write everything queued now; failed series go back to the queue when `retry`."""
        self._wake.clear()
        batch, self._queue = self._queue, []
        if not batch:
            return
        by_key: dict[SeriesKey, dict[int, tuple[BarUpdate, int]]] = {}
        for update, attempts in batch:
            queued = by_key.setdefault(update.key, {})
            earlier = queued.get(update.bar.time)
            if earlier is None or update.bar.supersedes(earlier[0].bar.partial):  # the latest wins, by the rule
                queued[update.bar.time] = (update, attempts)
        failed = await asyncio.gather(*(self._write_series(key, items) for key, items in by_key.items()))
        for items in failed:
            for update, attempts in items:
                if retry and attempts + 1 < self._max_attempts:
                    self._queue.append((update, attempts + 1))
                else:
                    self.dropped += 1
                    log.error("quote_bar_dropped", series=str(update.key), time=update.bar.time,
                              closed=update.closed)

    async def _write_series(
        self, key: SeriesKey, items: dict[int, tuple[BarUpdate, int]]
    ) -> list[tuple[BarUpdate, int]]:
        """Write one series' bars; returns the items to retry (all of them on a failure)."""
        async with self._gate:
            try:
                updates = await self._writable(key, [update for update, _ in items.values()])
                if updates:
                    await self._bars.upsert(key, [u.bar for u in updates])
            except Exception as error:
                log.warning("quote_bar_write_failed", series=str(key), bars=len(items), error=repr(error))
                return list(items.values())
        self.written += len(updates)
        if updates:
            with contextlib.suppress(Exception):  # a cache outage must not undo a successful write
                await self._cache.delete_pattern(cache_keys.ohlcv_series_pattern(key))
        now = self._clock.now()
        for update in updates:
            if update.closed:
                await self._event_bus.publish(BarCompletedEvent(key=key, bar=update.bar, occurred_at=now))
        return []

    async def _writable(self, key: SeriesKey, updates: list[BarUpdate]) -> list[BarUpdate]:
        partial = [u.bar.time for u in updates if u.bar.partial]
        if not partial:
            return updates
        stored = await self._bars.read(key, start=min(partial), end=max(partial))
        flags = {t: bool(p) for t, p in zip(stored.time.tolist(), stored.partial.tolist(), strict=True)}
        keep = [u for u in updates if u.bar.supersedes(flags.get(u.bar.time))]
        self.skipped += len(updates) - len(keep)
        return keep
