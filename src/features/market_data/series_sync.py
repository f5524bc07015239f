"""Syncing one series: fetch from its source's history provider, validate through the aggregate, upsert,
record the status and publish BarSyncedEvent. Used by the sync commands, the bulk sync and the jobs."""

import asyncio
import contextlib
from dataclasses import dataclass

from src.common.correlation import get_correlation_id
from src.common.errors import UpstreamRejected
from src.common.event_bus import EventBus
from src.common.ports import Clock, OHLCVRepository, SyncStatusRepository
from src.common.providers import ProviderRegistry
from src.domain.errors import DomainError
from src.domain.events import BarSyncedEvent, SyncFailedEvent
from src.domain.market_data import OHLCVAggregate, SeriesKey
from src.domain.sync.planning import bars_to_fetch
from src.domain.sync.status import SyncState, SyncStatus

INTERRUPTED = "interrupted before it finished"
INTERRUPTED_SAVE_TIMEOUT_S = 2.0


@dataclass(frozen=True, slots=True)
class SyncResult:
    key: SeriesKey
    status: SyncStatus
    bars_fetched: int
    bars_written: int
    first_bar_time: int | None
    last_bar_time: int | None


class SeriesSync:
    def __init__(
        self,
        providers: ProviderRegistry,
        bars: OHLCVRepository,
        sync_status: SyncStatusRepository,
        event_bus: EventBus,
        clock: Clock,
    ) -> None:
        self._providers = providers
        self._bars = bars
        self._status = sync_status
        self._bus = event_bus
        self._clock = clock

    async def status(self, key: SeriesKey) -> SyncState | None:
        return await self._status.get(key)

    async def request(self, key: SeriesKey) -> SyncState:
        """Record that a sync of `key` is pending (a finished one may be requested again)."""
        current = await self._status.get(key)
        now = self._clock.now()
        if current is None:
            state = SyncState.requested(key, now)
        elif current.status is SyncStatus.PENDING:
            return current
        elif current.status is SyncStatus.SYNCING:
            # Only one run per series lives in this process (SyncRuns), so this one was cut off.
            state = current.fail(now, INTERRUPTED).request(now)
        else:
            state = current.request(now)
        await self._status.save(state)
        return state

    async def run(self, key: SeriesKey, n_bars: int) -> SyncResult:
        state = await self.request(key)
        state = state.start(self._clock.now())
        await self._status.save(state)
        try:
            result = await self._fetch_and_store(key, n_bars)
        except asyncio.CancelledError:
            # Cut off (the app is shutting down): record it, so the status does not read "syncing" forever.
            with contextlib.suppress(Exception):  # bounded: shutdown is waiting, and the store may be gone
                async with asyncio.timeout(INTERRUPTED_SAVE_TIMEOUT_S):
                    await self._status.save(state.fail(self._clock.now(), INTERRUPTED))
            raise
        except Exception as error:
            message = str(error) or type(error).__name__
            await self._status.save(state.fail(self._clock.now(), message))
            await self._bus.publish(
                SyncFailedEvent(
                    occurred_at=self._clock.now(),
                    correlation_id=get_correlation_id(),
                    key=key,
                    error_type=type(error).__name__,
                    error=message,
                )
            )
            raise
        await self._status.save(state.complete(self._clock.now(), result.bars_written))
        await self._bus.publish(
            BarSyncedEvent(
                occurred_at=self._clock.now(),
                correlation_id=get_correlation_id(),
                key=key,
                bars_fetched=result.bars_fetched,
                bars_written=result.bars_written,
                first_bar_time=result.first_bar_time,
                last_bar_time=result.last_bar_time,
            )
        )
        return result

    async def _fetch_and_store(self, key: SeriesKey, n_bars: int) -> SyncResult:
        coverage = await self._bars.coverage(key)
        wanted = bars_to_fetch(key.interval, n_bars, coverage.last_bar_time, self._clock.now())
        fetched = await self._providers.history(key.source).fetch_bars(key.symbol, key.interval, wanted)
        try:
            series = OHLCVAggregate.from_bars(key, fetched)
        except DomainError as error:
            raise UpstreamRejected(f"upstream sent invalid bars for {key}: {error}") from error
        written = await self._bars.upsert(key, series.bars) if series.bars else 0
        first, last = series.first, series.last
        return SyncResult(
            key,
            SyncStatus.COMPLETED,
            bars_fetched=len(series),
            bars_written=written,
            first_bar_time=first.time if first else None,
            last_bar_time=last.time if last else None,
        )
