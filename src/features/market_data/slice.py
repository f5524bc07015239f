"""The market-data slice: history syncs, stored bars, tracked symbols, sync status, scheduled syncs."""

from typing import Protocol

from src.common.calendars import SymbolCalendars
from src.common.jobs import Cron, Every, JobSpec
from src.common.lifecycle import Component
from src.common.ports import QualityRepository, RunOwner, SymbolRepository, SyncStatusRepository
from src.features.market_data import handlers as h
from src.features.market_data import messages as m
from src.features.market_data.jobs import ALL_SYMBOLS_BARS, SyncAllSymbolsJob, SyncDailyDataJob
from src.features.market_data.routes import router
from src.features.market_data.series_sync import SeriesSync
from src.features.market_data.source_gates import SourceGates
from src.features.market_data.sync_runs import SyncRuns
from src.features.shared.deps import SharedDeps
from src.features.shared.slice import Counter, Slice, SliceParts

SIX_HOURS_S = 6 * 3600
BYTES_PER_BAR = 200  # a JSON row, generously: bounds the size of a cached page by the near cache's


class MarketDataDeps(SharedDeps, Protocol):
    @property
    def sync_status(self) -> SyncStatusRepository: ...
    @property
    def symbols(self) -> SymbolRepository: ...
    @property
    def run_owner(self) -> RunOwner: ...
    @property
    def calendars(self) -> SymbolCalendars: ...
    @property
    def quality(self) -> QualityRepository: ...  # the bars quality flags cover, for `exclude_flagged`


def build(d: MarketDataDeps) -> SliceParts:
    runs = SyncRuns(grace_s=d.settings.sync_drain_timeout_s)
    sync = SeriesSync(d.providers, d.bars, d.sync_status, d.cache, d.event_bus, d.clock, d.run_owner,
                      lease_s=d.settings.sync_lease_s, hours_of=d.calendars.refreshed)
    background_sync = h.StartBackgroundSyncHandler(sync, runs)
    return SliceParts(
        handlers={
            m.SyncSymbolCommand: h.SyncSymbolHandler(sync, runs),
            m.StartBackgroundSyncCommand: background_sync,
            m.BulkSyncCommand: h.BulkSyncHandler(sync, runs, SourceGates(d.settings.sync_bulk_concurrency)),
            m.TrackSymbolCommand: h.TrackSymbolHandler(d.providers, d.symbols, d.bars, d.clock, d.calendars,
                                                       background_sync, ALL_SYMBOLS_BARS),
            m.UntrackSymbolCommand: h.UntrackSymbolHandler(d.symbols, d.clock),
            m.GetBarsQuery: h.GetBarsHandler(
                d.bars, d.cache, d.providers, calendar_of=d.calendars.calendar_of,
                excluded_of=d.quality.excluded_spans,
                cacheable_bars=min(d.settings.ohlcv_cache_max_bars, d.settings.cache_near_max_bytes // BYTES_PER_BAR),
                max_downloads=d.settings.ohlcv_max_downloads,
            ),
            m.GetSyncStatusQuery: h.GetSyncStatusHandler(d.sync_status, d.bars, d.calendars),
            m.ListSymbolsQuery: h.ListSymbolsHandler(d.symbols, d.calendars),
            m.GetSymbolMetadataQuery: h.GetSymbolMetadataHandler(d.calendars),
            m.SearchSymbolsQuery: h.SearchSymbolsHandler(d.providers),
        },
        jobs=[
            JobSpec("sync_all_symbols", Every(SIX_HOURS_S), SyncAllSymbolsJob(d.mediator, d.symbols)),
            JobSpec("sync_daily_data", Cron(day_of_week="mon-fri", hour="9-17", minute="0"),
                    SyncDailyDataJob(d.mediator, d.symbols)),
        ],
        # Start: cached queries dropped, runs of gone processes marked interrupted. Stop: running syncs get
        # what is left of the shutdown grace, then are cancelled (they record the interruption).
        components=[Component("syncs", start=sync.recover, stop=runs.stop, shutdown=runs.begin_shutdown)],
        counters=[Counter("sync_bars_rejected", "Bars from a source at no bar open of the symbol's trading calendar "
                          "(not stored)", lambda: sync.bars_rejected)],
        exposed={"sync_runs": runs},
    )


SLICE = Slice("market_data", build, routers=(router,))
