"""Handlers of the market-data slice: each one loads, calls the domain or a port, saves, publishes."""

import asyncio
from dataclasses import dataclass, replace

from src.common import cache_keys
from src.common.errors import NotFound
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
from src.domain.sync.status import SyncState
from src.features.market_data.messages import (
    BarsFormat,
    BulkSyncCommand,
    GetBarsQuery,
    GetSyncStatusQuery,
    ListSymbolsQuery,
    SearchSymbolsQuery,
    StartBackgroundSyncCommand,
    SyncSymbolCommand,
    TrackSymbolCommand,
    UntrackSymbolCommand,
)
from src.features.market_data.serialization import bars_to_csv, bars_to_json
from src.features.market_data.series_sync import SeriesSync, SyncResult
from src.features.market_data.sync_runs import SyncRuns


class SyncSymbolHandler:
    def __init__(self, series_sync: SeriesSync, sync_runs: SyncRuns) -> None:
        self._sync = series_sync
        self._runs = sync_runs

    async def __call__(self, command: SyncSymbolCommand) -> SyncResult:
        return await self._runs.run(command.key, lambda: self._sync.run(command.key, command.n_bars))


class StartBackgroundSyncHandler:
    def __init__(self, series_sync: SeriesSync, sync_runs: SyncRuns) -> None:
        self._sync = series_sync
        self._runs = sync_runs

    async def __call__(self, command: StartBackgroundSyncCommand) -> SyncState:
        if not self._runs.is_running(command.key):
            await self._sync.request(command.key)
            self._runs.start(command.key, lambda: self._sync.run(command.key, command.n_bars))
        state = await self._sync.status(command.key)
        assert state is not None
        return state


@dataclass(frozen=True, slots=True)
class BulkItemResult:
    command: SyncSymbolCommand
    result: SyncResult | None = None
    error: Exception | None = None


class BulkSyncHandler:
    def __init__(self, series_sync: SeriesSync, sync_runs: SyncRuns, bulk_concurrency: int) -> None:
        self._sync = series_sync
        self._runs = sync_runs
        self._concurrency = bulk_concurrency

    async def __call__(self, command: BulkSyncCommand) -> list[BulkItemResult]:
        gate = asyncio.Semaphore(self._concurrency)

        async def one(item: SyncSymbolCommand) -> BulkItemResult:
            async with gate:
                try:
                    work = lambda: self._sync.run(item.key, item.n_bars)  # noqa: E731
                    return BulkItemResult(item, result=await self._runs.run(item.key, work))
                except Exception as error:  # one failure never stops the others
                    return BulkItemResult(item, error=error)

        return list(await asyncio.gather(*(one(item) for item in command.items)))


class GetBarsHandler:
    """Read side: cached response bytes when warm, else the store serialized in one pass. A source nobody
    registered is refused (a typo would otherwise read as an empty series), and so is a series with no
    stored bar at all (404; a stored series with no bar in the asked range is an empty answer)."""

    def __init__(self, bars: OHLCVRepository, cache: Cache, providers: ProviderRegistry) -> None:
        self._bars = bars
        self._cache = cache
        self._providers = providers

    async def __call__(self, query: GetBarsQuery) -> bytes:
        self._providers.get(query.key.source)
        key = cache_keys.ohlcv_query(
            query.key, query.limit, query.start, query.end, "desc" if query.descending else "asc", query.format
        )
        body: bytes = await self._cache.get_or_set(key, cache_keys.OHLCV_QUERY_TTL_S, lambda: self._render(query))
        return body

    async def _render(self, query: GetBarsQuery) -> bytes:
        columns = await self._bars.read(
            query.key, start=query.start, end=query.end, limit=query.limit, descending=query.descending
        )
        if not len(columns) and not (await self._bars.coverage(query.key)).bar_count:
            raise NotFound(f"no bars are stored for {query.key}; sync it first", field="symbol")
        return bars_to_csv(columns) if query.format is BarsFormat.CSV else bars_to_json(columns)


@dataclass(frozen=True, slots=True)
class SyncStatusView:
    state: SyncState
    coverage: SeriesCoverage


class GetSyncStatusHandler:
    def __init__(self, sync_status: SyncStatusRepository, bars: OHLCVRepository) -> None:
        self._status = sync_status
        self._bars = bars

    async def __call__(self, query: GetSyncStatusQuery) -> list[SyncStatusView]:
        where = SyncStatusFilter(query.source, query.exchange, query.symbol, query.interval, query.status)
        states = await self._status.list(where)
        coverages = await asyncio.gather(*(self._bars.coverage(s.key) for s in states))
        return [SyncStatusView(s, c) for s, c in zip(states, coverages, strict=True)]


class TrackSymbolHandler:
    def __init__(self, providers: ProviderRegistry, symbols: SymbolRepository, clock: Clock) -> None:
        self._providers = providers
        self._symbols = symbols
        self._clock = clock

    async def __call__(self, command: TrackSymbolCommand) -> TrackedSymbol:
        instrument = command.instrument
        info = await self._providers.symbols(instrument.source).resolve_symbol(instrument.symbol)  # unknown: stops
        existing = await self._symbols.get(instrument)
        now = self._clock.now()
        intervals = tuple(dict.fromkeys((*(existing.intervals if existing else ()), *command.intervals)))
        tracked = TrackedSymbol(
            instrument.symbol,
            instrument.source,
            description=info.description,
            type=info.type,
            currency=info.currency,
            active=True,
            intervals=intervals,
            created_at=existing.created_at if existing else now,
            updated_at=now,
        )
        await self._symbols.save(tracked)
        return tracked


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
    def __init__(self, symbols: SymbolRepository) -> None:
        self._symbols = symbols

    async def __call__(self, query: ListSymbolsQuery) -> list[TrackedSymbol]:
        return await self._symbols.list(active_only=query.active_only)


class SearchSymbolsHandler:
    """One source, or every registered source at once (merged in registration order)."""

    def __init__(self, providers: ProviderRegistry) -> None:
        self._providers = providers

    async def __call__(self, query: SearchSymbolsQuery) -> list[SymbolMatch]:
        sources = (query.source,) if query.source else self._providers.sources
        found = await asyncio.gather(*(self._search(source, query) for source in sources))
        return [match for matches in found for match in matches]

    async def _search(self, source: str, query: SearchSymbolsQuery) -> list[SymbolMatch]:
        matches = await self._providers.symbols(source).search_symbols(query.text, exchange=query.exchange)
        return [replace(match, source=source) for match in matches]
