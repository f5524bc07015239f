"""Syncing one series so that it holds the newest `n_bars` bars its source has.

A run claims the series' status (refused while another process's live run holds it), takes the symbol's
calendar (its metadata refreshed from the source when old, `SymbolCalendars.refreshed`), then repeats the
domain planner's rounds (`src.domain.sync.planning`): the window's candidates from the series' calendar,
the complete bars stored in it, the plan, the fetches (all of a round at once), the writes, what the
answers taught about the source. It records completion (with the source gaps it learned) or the failure,
and publishes BarSyncedEvent or SyncFailedEvent.

The source's bar times are kept as they are: a bar whose time is no bar open of the symbol's calendar is
rejected (`OHLCVAggregate.fitting`), counted in `bars_rejected` with the first reason, logged, and never
moved. A repair (`refresh`) also deletes the stored bars of its window that are no bar open of the calendar
(e.g. a session symbol's bars stamped on the UTC grid by an older version), so the window ends up holding
exactly the source's bars.

Writes are ordered: range fetches (older holes) first, then the newest bars, each oldest first in batches
of WRITE_BATCH bars, so an interrupted sync never advances a series' newest bar past a hole it was filling;
whatever an interruption leaves is missing for the next plan. Every batch written invalidates the series'
cached queries (in every worker), not only a completed sync.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import structlog

from src.common import cache_keys
from src.common.correlation import get_correlation_id
from src.common.errors import Conflict, UpstreamRejected
from src.common.event_bus import EventBus
from src.common.ports import (
    Cache,
    Clock,
    OHLCVRepository,
    RunOwner,
    SourceBars,
    SyncStatusFilter,
    SyncStatusRepository,
)
from src.common.providers import ProviderRegistry
from src.domain.errors import DomainError
from src.domain.events import BarSyncedEvent, SyncFailedEvent
from src.domain.market_data import Instrument, OHLCVAggregate, OHLCVBar, SeriesKey, SessionCalendar
from src.domain.market_data.bar_opens import misplaced
from src.domain.market_data.trading_hours import ALWAYS_OPEN_HOURS, TradingHours
from src.domain.sync.planning import (
    MAX_ROUNDS,
    Bounds,
    Fetch,
    Times,
    advance,
    merge_gaps,
    plan,
    window,
)
from src.domain.sync.status import OWNER_GONE, SyncState, SyncStatus, claim
from src.features.market_data.run_record import LostRun, RunRecord

log = structlog.get_logger("market_data.sync")

FETCH_PAGE_BARS = 5_000  # bars one request returns (TradingView's free plan): the planner's cost unit
WRITE_BATCH = 5_000
SHUTDOWN = "interrupted by shutdown"
HoursOf = Callable[[Instrument], Awaitable[TradingHours]]


UNUSABLE_ROWS = "the source sent rows that are no valid bar (high below low, negative volume, missing price)"


async def _always_open(_: Instrument) -> TradingHours:
    return ALWAYS_OPEN_HOURS


@dataclass(frozen=True, slots=True)
class SyncResult:
    key: SeriesKey
    status: SyncStatus
    bars_fetched: int
    bars_written: int
    first_bar_time: int | None
    last_bar_time: int | None
    # the source's bars at no bar open of the symbol's calendar and its rows that were no valid bar (not stored)
    bars_rejected: int = 0
    rejection: str | None = None  # why the first of them was rejected
    bars_removed: int = 0  # stored bars at no bar open of the calendar, deleted by a repair


@dataclass(slots=True)
class _Tally:
    fetched: int = 0
    written: int = 0
    first: int | None = None
    last: int | None = None
    oldest_stored: int | None = None
    gaps: tuple[tuple[int, int], ...] = field(default=())
    first_bar: int | None = None
    rejected: int = 0
    rejection: str | None = None
    removed: int = 0

    def count(self, bars: Sequence[OHLCVBar]) -> None:
        if bars:
            self.fetched += len(bars)
            self.first = _least(self.first, bars[0].time)
            self.last = bars[-1].time if self.last is None else max(self.last, bars[-1].time)
            self.oldest_stored = _least(self.oldest_stored, bars[0].time)


class SeriesSync:
    def __init__(
        self,
        providers: ProviderRegistry,
        bars: OHLCVRepository,
        sync_status: SyncStatusRepository,
        cache: Cache,
        event_bus: EventBus,
        clock: Clock,
        owner: RunOwner,
        *,
        lease_s: float = 30.0,
        page_bars: int = FETCH_PAGE_BARS,
        hours_of: HoursOf = _always_open,
    ) -> None:
        self._providers = providers
        self._bars = bars
        self._status = sync_status
        self._cache = cache
        self._bus = event_bus
        self._clock = clock
        self._owner = owner
        self._lease_s = lease_s
        self._page = page_bars
        self._hours_of = hours_of  # the symbol's calendar, its metadata refreshed when old
        self.bars_rejected = 0  # over every run, for the metrics

    async def status(self, key: SeriesKey) -> SyncState | None:
        return await self._status.get(key)

    # --- claiming and recovering runs ----------------------------------------------------------------

    async def request(self, key: SeriesKey) -> SyncState:
        """Claim a pending run of `key` for this process; Conflict while another process's live run has it."""
        for _ in range(3):  # a concurrent writer may save between our read and our save
            current = await self._status.get(key)
            gone = current is not None and current.owner is not None and self._owner.is_gone(current.owner)
            claimed = claim(current, key, owner=self._owner.id, now=self._clock.now(), lease_s=self._lease_s,
                            owner_gone=gone)
            if claimed is None:
                raise Conflict(f"{key} is being synced by another process ({current and current.owner})",
                               field="symbol")
            if claimed is current:
                return claimed
            if await self._status.save(claimed, expected_revision=current.revision if current else 0):
                if current is not None and current.is_running and current.owner != self._owner.id:
                    await self._invalidate(key)  # the gone owner may have written without invalidating
                return claimed
        raise Conflict(f"{key}: its sync status keeps changing under us", field="symbol")

    async def recover(self) -> int:
        """At start-up: drop every cached query (a crash may have skipped an invalidation) and mark the runs
        whose owner is gone as interrupted. Returns how many were."""
        await self._cache.delete_pattern(cache_keys.ohlcv_all_pattern())
        now, recovered = self._clock.now(), 0
        for status in (SyncStatus.PENDING, SyncStatus.SYNCING):
            for state in await self._status.list(SyncStatusFilter(status=status)):
                gone = state.owner is not None and self._owner.is_gone(state.owner)
                if state.owner != self._owner.id and state.abandoned(now, gone):
                    saved = await self._status.save(state.interrupt(now, OWNER_GONE), expected_revision=state.revision)
                    recovered += saved
        return recovered

    # --- one run -------------------------------------------------------------------------------------

    async def run(self, key: SeriesKey, n_bars: int, *, refresh: bool = False) -> SyncResult:
        record = RunRecord(self._status, await self.request(key), self._clock, self._lease_s)
        await record.change(record.current.start(self._clock.now(), self._lease_s))
        keeper = asyncio.create_task(record.keep_alive(asyncio.current_task()), name=f"lease {key}")
        try:
            tally = await self._sync(key, n_bars, refresh, record.current)
        except asyncio.CancelledError:
            await record.change_quietly(record.current.interrupt(self._clock.now(), SHUTDOWN))
            if record.lost:
                raise LostRun(f"{key}: another process took this sync over", field="symbol") from None
            raise
        except Exception as error:
            await self._failed(record, error)
            raise
        finally:
            keeper.cancel()
        await record.change(record.current.complete(self._clock.now(), tally.written, tally.gaps, tally.first_bar))
        return await self._completed(key, tally)

    async def _failed(self, record: RunRecord, error: Exception) -> None:
        message = str(error) or type(error).__name__
        if not record.lost:
            await record.change(record.current.fail(self._clock.now(), message))
        await self._bus.publish(SyncFailedEvent(
            occurred_at=self._clock.now(), correlation_id=get_correlation_id(), key=record.current.key,
            error_type=type(error).__name__, error=message,
        ))

    async def _completed(self, key: SeriesKey, tally: _Tally) -> SyncResult:
        await self._bus.publish(BarSyncedEvent(
            occurred_at=self._clock.now(), correlation_id=get_correlation_id(), key=key,
            bars_fetched=tally.fetched, bars_written=tally.written, first_bar_time=tally.first,
            last_bar_time=tally.last, bars_rejected=tally.rejected,
        ))
        return SyncResult(key, SyncStatus.COMPLETED, tally.fetched, tally.written, tally.first, tally.last,
                          tally.rejected, tally.rejection, tally.removed)

    # --- the rounds ----------------------------------------------------------------------------------

    async def _sync(self, key: SeriesKey, n_bars: int, refresh: bool, known: SyncState) -> _Tally:
        hours = await self._hours_of(key.instrument)
        calendar = hours.calendar
        bounds = Bounds() if refresh else Bounds(gaps=known.source_gaps, first_bar=known.source_first_bar)
        tally = _Tally(oldest_stored=(await self._bars.coverage(key)).first_bar_time)
        for round_ in range(MAX_ROUNDS):
            candidates = window(calendar, key.interval, n_bars, int(self._clock.now()), bounds)
            fresh = refresh and round_ == 0
            if fresh and len(candidates):
                tally.removed = await self._remove_misplaced(key, calendar, int(candidates[0]))
            complete = _NONE if fresh or not len(candidates) else await self._complete_times(key, candidates)
            the_plan = plan(candidates, complete, page=self._page, overlap=round_ == 0, refresh=fresh)
            if the_plan.done:
                break
            oldest = tally.oldest_stored
            answers = await self._fetch(key, the_plan.fetches, hours, tally)
            await self._store(key, [(fetch, bars) for fetch, bars, _ in answers], tally)
            # What the source answered, rejected bars included: they tell how far its history goes.
            after = advance(bounds, [(fetch, answered) for fetch, _, answered in answers], candidates, oldest)
            if after == bounds:
                break
            bounds = after
        final = window(calendar, key.interval, n_bars, int(self._clock.now()), bounds)
        tally.gaps = merge_gaps(bounds.gaps, (), keep_from=int(final[0]) if len(final) else None)
        tally.first_bar = bounds.first_bar
        return tally

    async def _complete_times(self, key: SeriesKey, candidates: Times) -> Times:
        stored = await self._bars.read(key, start=int(candidates[0]), end=int(candidates[-1]))
        times: Times = np.asarray(stored.time, np.int64)
        complete: Times = times[np.asarray(stored.partial, np.int8) == 0]
        return complete

    async def _remove_misplaced(self, key: SeriesKey, calendar: SessionCalendar, oldest: int) -> int:
        """A repair deletes the stored bars of its window (and the period before its oldest slot, where a bar
        stamped early would lie) that are no bar open of the calendar."""
        stored = await self._bars.read(key, start=max(0, oldest - (key.interval.seconds or _WIDEST_STEP)))
        times: Times = np.asarray(stored.time, np.int64)
        doomed = times[misplaced(calendar, key.interval, times)]
        if not doomed.size:
            return 0
        removed = await self._bars.remove(key, [int(t) for t in doomed])
        await self._invalidate(key)
        log.info("sync_removed_misplaced_bars", series=str(key), count=removed)
        return removed

    async def _fetch(self, key: SeriesKey, fetches: Sequence[Fetch], hours: TradingHours,
                     tally: _Tally) -> list[tuple[Fetch, tuple[OHLCVBar, ...], Times]]:
        """Per fetch: the bars that fit the calendar, and the sorted times of every bar the source answered."""
        history = self._providers.history(key.source)

        async def one(fetch: Fetch) -> tuple[Fetch, tuple[OHLCVBar, ...], Times]:
            if fetch.newest:
                bars = await history.fetch_bars(key.symbol, key.interval, fetch.slots, hours=hours)
            else:
                bars = await history.fetch_range(key.symbol, key.interval, fetch.start, fetch.end, hours=hours)
            return fetch, self._validated(key, bars, hours.calendar, tally), np.unique(_times(bars))

        tasks = [asyncio.create_task(one(fetch)) for fetch in fetches]
        try:
            return list(await asyncio.gather(*tasks))
        except BaseException:  # one failure (or our cancellation) cancels the others, then propagates
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    async def _store(self, key: SeriesKey, answers: Sequence[tuple[Fetch, Sequence[OHLCVBar]]], tally: _Tally) -> None:
        ordered = [bars for fetch, bars in answers if not fetch.newest] + [bars for f, bars in answers if f.newest]
        for series in ordered:
            tally.count(series)
            for start in range(0, len(series), WRITE_BATCH):
                tally.written += await self._bars.upsert(key, series[start:start + WRITE_BATCH])
                await self._invalidate(key)

    async def _invalidate(self, key: SeriesKey) -> None:
        await self._cache.delete_pattern(cache_keys.ohlcv_series_pattern(key))


    def _validated(self, key: SeriesKey, bars: Sequence[OHLCVBar], calendar: SessionCalendar,
                   tally: _Tally) -> tuple[OHLCVBar, ...]:
        """The source's bars that are bar opens of the calendar; the others are counted, never moved, and so
        are the rows the source sent that were no valid bar (its adapter skipped them)."""
        try:
            series, refused = OHLCVAggregate.fitting(key, bars, calendar)
        except DomainError as error:
            raise UpstreamRejected(f"upstream sent invalid bars for {key}: {error}") from error
        unusable = bars.unusable if isinstance(bars, SourceBars) else 0
        if unusable:
            tally.rejected += unusable
            self.bars_rejected += unusable
            tally.rejection = tally.rejection or UNUSABLE_ROWS
            log.warning("sync_rows_unusable", series=str(key), count=unusable)
        if refused:
            tally.rejected += len(refused)
            self.bars_rejected += len(refused)
            tally.rejection = tally.rejection or refused[0].reason
            log.warning("sync_bars_rejected", series=str(key), count=len(refused), first=refused[0].reason)
        return series.bars


_NONE: Times = np.zeros(0, np.int64)
_WIDEST_STEP = 31 * 86_400


def _times(bars: Sequence[OHLCVBar]) -> Times:
    return np.fromiter((bar.time for bar in bars), np.int64, len(bars))


def _least(current: int | None, candidate: int) -> int:
    return candidate if current is None else min(current, candidate)
