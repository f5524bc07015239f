"""Handlers of the market-data slice: each one loads, calls the domain or a port, saves, publishes."""

import asyncio
from dataclasses import dataclass, replace

from src.common import cache_keys
from src.common.calendars import SymbolCalendars
from src.common.errors import Conflict, NotFound
from src.common.ports import (
    Cache,
    Clock,
    OHLCVRepository,
    SeriesCoverage,
    SymbolMatch,
    SymbolRepository,
    SyncStatusFilter,
    SyncStatusRepository,
    TrackedSymbol,
)
from src.common.providers import ProviderRegistry
from src.domain.market_data import Instrument, Interval, SeriesKey
from src.domain.market_data.coverage import calendar_coverage
from src.domain.market_data.trading_hours import SymbolMetadata
from src.domain.sync.status import SyncState
from src.features.market_data.bar_pages import (
    BarsPage,
    CalendarOf,
    DownloadGate,
    ExcludedOf,
    PageRenderer,
    cacheable_bars,
)
from src.features.market_data.messages import (
    BulkSyncCommand,
    GetBarsQuery,
    GetSymbolMetadataQuery,
    GetSyncStatusQuery,
    ListSymbolsQuery,
    SearchSymbolsQuery,
    StartBackgroundSyncCommand,
    SyncSymbolCommand,
    TrackSymbolCommand,
    UntrackSymbolCommand,
)
from src.features.market_data.schemas import MAX_SYNC_BARS
from src.features.market_data.series_sync import SeriesSync, SyncResult
from src.features.market_data.source_gates import SourceGates
from src.features.market_data.sync_runs import SyncRuns


class SyncSymbolHandler:
    def __init__(self, series_sync: SeriesSync, sync_runs: SyncRuns) -> None:
        self._sync = series_sync
        self._runs = sync_runs

    async def __call__(self, command: SyncSymbolCommand) -> SyncResult:
        return await self._runs.run(command.key, lambda: self._sync.run(command.key, command.n_bars,
                                                                        refresh=command.refresh))


class StartBackgroundSyncHandler:
    def __init__(self, series_sync: SeriesSync, sync_runs: SyncRuns) -> None:
        self._sync = series_sync
        self._runs = sync_runs

    async def __call__(self, command: StartBackgroundSyncCommand) -> SyncState:
        """Joins a run of this process, and reports (without disturbing) a live run of another one."""
        key = command.key
        if not self._runs.is_running(key):
            try:
                await self._sync.request(key)
            except Conflict:
                pass  # another process is syncing it: the status to poll is that run's
            else:
                self._runs.start(key, lambda: self._sync.run(key, command.n_bars, refresh=command.refresh))
        state = await self._sync.status(key)
        assert state is not None
        return state


@dataclass(frozen=True, slots=True)
class BulkItemResult:
    command: SyncSymbolCommand
    result: SyncResult | None = None
    error: Exception | None = None


class BulkSyncHandler:
    """Each item waits for its source's gate (shared by every bulk request), so concurrency is per source."""

    def __init__(self, series_sync: SeriesSync, sync_runs: SyncRuns, gates: SourceGates) -> None:
        self._sync = series_sync
        self._runs = sync_runs
        self._gates = gates

    async def __call__(self, command: BulkSyncCommand) -> list[BulkItemResult]:
        async def one(item: SyncSymbolCommand) -> BulkItemResult:
            async with self._gates.of(item.key.source):
                try:
                    work = lambda: self._sync.run(item.key, item.n_bars, refresh=item.refresh)  # noqa: E731
                    return BulkItemResult(item, result=await self._runs.run(item.key, work))
                except Exception as error:  # one failure never stops the others
                    return BulkItemResult(item, error=error)

        return list(await asyncio.gather(*(one(item) for item in command.items)))


class GetBarsHandler:
    """Read side: a page of bars (see `bar_pages`): small pages from the cache when warm, else rendered and
    cached; large pages streamed within the download bound. A source nobody registered is refused (a typo
    would otherwise read as an empty series), and so is a series with no stored bar at all (404; a stored
    series with no bar in the asked range is an empty answer)."""

    def __init__(
        self, bars: OHLCVRepository, cache: Cache, providers: ProviderRegistry, *, calendar_of: CalendarOf,
        excluded_of: ExcludedOf, cacheable_bars: int, max_downloads: int,
    ) -> None:
        self._renderer = PageRenderer(bars, calendar_of, excluded_of)
        self._cache = cache
        self._providers = providers
        self._cacheable = cacheable_bars
        self.downloads = DownloadGate(max_downloads)

    async def __call__(self, query: GetBarsQuery) -> BarsPage:
        self._providers.get(query.key.source)
        if cacheable_bars(query) <= self._cacheable:
            key = cache_keys.ohlcv_query(
                query.key, query.limit, query.start, query.end, "desc" if query.descending else "asc",
                query.format, "oldest" if query.oldest_first else "newest", query.resample_from, query.auto_resample,
                int(query.exclude_flagged),
            )
            packed: bytes = await self._cache.get_or_set(key, cache_keys.OHLCV_QUERY_TTL_S, lambda: self._whole(query))
            return BarsPage.unpacked(packed)
        release = self.downloads.enter()  # refused here, before anything is read
        try:
            page = await self._renderer.render(query, query.url)
        except BaseException:
            release()
            raise
        assert page.chunks is not None
        return replace(page, chunks=DownloadGate.hold(page.chunks, release))

    async def _whole(self, query: GetBarsQuery) -> bytes:
        page = await self._renderer.render(query, query.url)
        return replace(page, body=await page.read(), chunks=None).packed()


@dataclass(frozen=True, slots=True)
class SyncStatusView:
    state: SyncState
    coverage: SeriesCoverage


class GetSyncStatusHandler:
    def __init__(self, sync_status: SyncStatusRepository, bars: OHLCVRepository, calendars: SymbolCalendars) -> None:
        self._status = sync_status
        self._bars = bars
        self._calendars = calendars

    async def __call__(self, query: GetSyncStatusQuery) -> list[SyncStatusView]:
        where = SyncStatusFilter(query.source, query.exchange, query.symbol, query.interval, query.status)
        states = await self._status.list(where)
        coverages = await asyncio.gather(*(self._coverage(s.key) for s in states))
        return [SyncStatusView(s, c) for s, c in zip(states, coverages, strict=True)]

    async def _coverage(self, key: SeriesKey) -> SeriesCoverage:
        """The store's coverage; for a symbol with sessions, its gaps counted against the symbol's calendar
        (nights, weekends and holidays are no gaps) and its misplaced bars counted."""
        coverage = await self._bars.coverage(key)
        calendar = (await self._calendars.hours(key.instrument)).calendar
        if calendar.is_utc_grid or not coverage.bar_count:
            return coverage
        found = calendar_coverage(calendar, key.interval, (await self._bars.read(key)).time)
        return replace(coverage, gaps=found.gaps, missing_bars=found.missing, misplaced_bars=found.misplaced)


@dataclass(frozen=True, slots=True)
class TrackedSymbolView:
    tracked: TrackedSymbol
    metadata: SymbolMetadata | None
    first_syncs: tuple[SyncState, ...] = ()  # the background syncs tracking started


class TrackSymbolHandler:
    """Newly tracked intervals (and those of a symbol tracked again) get their first sync at once, in the
    background, instead of waiting for the next scheduled run."""

    def __init__(self, providers: ProviderRegistry, symbols: SymbolRepository, bars: OHLCVRepository, clock: Clock,
                 calendars: SymbolCalendars, first_sync: StartBackgroundSyncHandler, first_sync_bars: int) -> None:
        self._providers = providers
        self._symbols = symbols
        self._bars = bars
        self._clock = clock
        self._calendars = calendars
        self._first_sync = first_sync
        self._first_sync_bars = first_sync_bars

    async def __call__(self, command: TrackSymbolCommand) -> TrackedSymbolView:
        instrument = command.instrument
        known = await self._calendars.metadata(instrument)
        metadata = await self._calendars.refresh(instrument)  # asks the source: an unknown symbol stops here
        calendar_changed = (known is not None and command.extended_hours is not None
                            and known.extended_hours != command.extended_hours)
        if command.extended_hours is not None:
            metadata = await self._calendars.choose_extended(instrument, command.extended_hours)
        existing = await self._symbols.get(instrument)
        tracked = self._tracked(instrument, metadata, existing, command.intervals)
        await self._symbols.save(tracked)
        synced_already = existing.intervals if existing and existing.active else ()
        started = []
        for interval in tracked.intervals:
            key = SeriesKey(instrument.symbol, interval, instrument.source)
            if interval not in synced_already:
                started.append(await self._first_sync(StartBackgroundSyncCommand(key, self._first_sync_bars)))
            elif calendar_changed:
                started.append(await self._repair(key))
        return TrackedSymbolView(tracked, metadata, tuple(started))

    def _tracked(self, instrument: Instrument, metadata: SymbolMetadata, existing: TrackedSymbol | None,
                 intervals: tuple[Interval, ...]) -> TrackedSymbol:
        now = self._clock.now()
        return TrackedSymbol(
            instrument.symbol,
            instrument.source,
            description=metadata.description,
            type=metadata.type,
            currency=metadata.currency,
            active=True,
            intervals=tuple(dict.fromkeys((*(existing.intervals if existing else ()), *intervals))),
            created_at=existing.created_at if existing else now,
            updated_at=now,
        )

    async def _repair(self, key: SeriesKey) -> SyncState:
        """Stored bars of the other session would lie between the new calendar's bars: fetch the stored span
        again on the new calendar, which replaces them."""
        coverage = await self._bars.coverage(key)
        n_bars = self._first_sync_bars
        if coverage.first_bar_time is not None:
            calendar = await self._calendars.calendar_of(key)
            span = calendar.bar_times(key.interval, coverage.first_bar_time, int(self._clock.now())).size
            n_bars = min(MAX_SYNC_BARS, max(n_bars, span))
        return await self._first_sync(StartBackgroundSyncCommand(key, n_bars, refresh=True))


class UntrackSymbolHandler:
    def __init__(self, symbols: SymbolRepository, clock: Clock) -> None:
        self._symbols = symbols
        self._clock = clock

    async def __call__(self, command: UntrackSymbolCommand) -> TrackedSymbol:
        existing = await self._symbols.get(command.instrument)
        if existing is None or not existing.active:
            raise NotFound(f"{command.instrument} is not tracked", field="symbol")
        # Untracking some intervals keeps the symbol tracked for the others; untracking all deactivates it.
        remaining = tuple(i for i in existing.intervals if command.intervals and i not in command.intervals)
        untracked = replace(existing, intervals=remaining, active=bool(remaining), updated_at=self._clock.now())
        await self._symbols.save(untracked)
        return untracked


class ListSymbolsHandler:
    def __init__(self, symbols: SymbolRepository, calendars: SymbolCalendars) -> None:
        self._symbols = symbols
        self._calendars = calendars

    async def __call__(self, query: ListSymbolsQuery) -> list[TrackedSymbolView]:
        tracked = await self._symbols.list(active_only=query.active_only)
        metadata = await asyncio.gather(*(self._calendars.metadata(t.instrument) for t in tracked))
        return [TrackedSymbolView(t, m) for t, m in zip(tracked, metadata, strict=True)]


class GetSymbolMetadataHandler:
    def __init__(self, calendars: SymbolCalendars) -> None:
        self._calendars = calendars

    async def __call__(self, query: GetSymbolMetadataQuery) -> SymbolMetadata:
        stored = None if query.refresh else await self._calendars.metadata(query.instrument)
        return stored if stored is not None else await self._calendars.refresh(query.instrument)


class SearchSymbolsHandler:
    """One source, or every registered source at once (merged in registration order). Across sources, one that
    fails (down, its circuit open) is left out as long as another answered."""

    def __init__(self, providers: ProviderRegistry) -> None:
        self._providers = providers

    async def __call__(self, query: SearchSymbolsQuery) -> list[SymbolMatch]:
        if query.source:
            return await self._search(query.source, query)
        found = await asyncio.gather(*(self._search(s, query) for s in self._providers.sources),
                                     return_exceptions=True)
        answered = [matches for matches in found if not isinstance(matches, BaseException)]
        if not answered:
            raise next(error for error in found if isinstance(error, BaseException))
        return [match for matches in answered for match in matches]

    async def _search(self, source: str, query: SearchSymbolsQuery) -> list[SymbolMatch]:
        matches = await self._providers.symbols(source).search_symbols(query.text, exchange=query.exchange)
        return [replace(match, source=source) for match in matches]
