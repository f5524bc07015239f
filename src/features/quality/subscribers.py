"""Reactions of the quality slice: every write to a series is checked — a sync by a full run (then the
live bars it owes are reconciled), a closed live bar by the live checks.

A sync's run happens in the background, so a sync never waits for its checks: one task per series at a
time, at most `concurrency` series checked at once (a bulk sync of many series queues them); syncs of a
series that land meanwhile are merged (their rewritten spans and rejections) into one more run after it.
`drain()` waits for every run (the lifecycle's stop, and tests).
"""

import asyncio
from dataclasses import dataclass

import structlog

from src.domain.events import BarCompletedEvent, BarSyncedEvent
from src.domain.market_data import SeriesKey
from src.domain.quality.series import Span
from src.features.quality.live import LiveQuality
from src.features.quality.monitor import QualityMonitor

log = structlog.get_logger("quality.checks")


@dataclass(frozen=True, slots=True)
class _Owed:
    rewritten: Span | None
    rejected: int
    synced_until: int | None

    def merged(self, other: "_Owed") -> "_Owed":
        spans = [span for span in (self.rewritten, other.rewritten) if span is not None]
        rewritten = (min(s[0] for s in spans), max(s[1] for s in spans)) if spans else None
        untils = [t for t in (self.synced_until, other.synced_until) if t is not None]
        return _Owed(rewritten, self.rejected + other.rejected, max(untils) if untils else None)


def _owed(event: BarSyncedEvent) -> _Owed:
    first, last = event.first_bar_time, event.last_bar_time
    rewritten = (first, last) if event.bars_written and first is not None and last is not None else None
    return _Owed(rewritten, event.bars_rejected, last)


class CheckQualityOnSync:
    local_only = True  # the process that wrote checks (another process's sync is checked there, once)

    def __init__(self, monitor: QualityMonitor, live: LiveQuality, concurrency: int = 2) -> None:
        self._monitor = monitor
        self._live = live
        self._slots = asyncio.Semaphore(concurrency)
        self._owed: dict[SeriesKey, _Owed] = {}
        self._running: dict[SeriesKey, asyncio.Task[None]] = {}

    def __call__(self, event: BarSyncedEvent) -> None:
        key = event.key
        self._live.forget(key)  # the sync may have rewritten the tail; the baseline changes too
        owed = self._owed.get(key)
        self._owed[key] = _owed(event) if owed is None else owed.merged(_owed(event))
        if key not in self._running:
            self._running[key] = asyncio.get_running_loop().create_task(self._run(key), name=f"quality {key}")

    async def _run(self, key: SeriesKey) -> None:
        try:
            while (owed := self._owed.pop(key, None)) is not None:
                try:
                    async with self._slots:
                        await self._check(key, owed)
                except Exception:  # the next write or the scheduled run checks it again
                    log.exception("quality_check_failed", series=str(key))
        finally:
            self._running.pop(key, None)

    async def _check(self, key: SeriesKey, owed: _Owed) -> None:
        quality = await self._monitor.check(key, rewritten=owed.rewritten, rejected=owed.rejected)
        if quality.live_since is not None and owed.synced_until is not None and owed.synced_until >= quality.live_since:
            await self._monitor.reconcile(key)

    async def drain(self) -> None:
        while self._running:
            await asyncio.gather(*self._running.values(), return_exceptions=True)


class CheckQualityOnBarCompleted:
    local_only = True  # the collector that closed the bar checks it, once

    def __init__(self, live: LiveQuality) -> None:
        self._live = live

    async def __call__(self, event: BarCompletedEvent) -> None:
        await self._live.on_closed(event.key, event.bar)
