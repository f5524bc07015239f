"""Running the quality checks of one series and keeping its record (`SeriesQuality`) current.

* **Full run** (`check`): after every sync of the series, on demand, and by the scheduled job. Reads the
  newest `max_bars` bars, builds the context from the symbol's calendar (the bar times it expects up to
  now, whether the market is open now), runs every check (`run_checks`), merges the flags, saves the
  record, and publishes a `DataQualityIssueEvent` per check that newly fails.
* **Reconciliation** (`reconcile`): the live-built bars from the record's `live_since` are compared with the
  source's bars of the same closed periods (`fetch_range`); the differences are recorded and, by the
  policy setting, the source's bars written over the live ones (`bars_to_write`); then a full run with the
  reconciliation's result. Live bars newer than the source's history stay owed to the next one.
* **Verdicts** (`judge`): a user confirms or clears a flag.

Runs of one series never overlap in this process (a lock per series). Whenever the bars that
`exclude_flagged=true` leaves out change, the series' cached queries are dropped.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import numpy as np

from src.common import cache_keys
from src.common.correlation import get_correlation_id
from src.common.errors import NotFound
from src.common.event_bus import EventBus
from src.common.ports import BarColumns, Cache, Clock, OHLCVRepository, QualityRepository
from src.common.providers import ProviderRegistry
from src.domain.market_data import SeriesKey, SessionCalendar
from src.domain.market_data.trading_hours import TradingHours
from src.domain.quality import (
    QualityThresholds,
    Reconciliation,
    ReconciliationPolicy,
    SeriesIdentity,
    bars_to_write,
    quality_issues_raised,
    reconcile,
    run_checks,
)
from src.domain.quality.model import CheckContext, SeriesColumns
from src.domain.quality.series import ReconciliationRecord, SeriesQuality, Span
from src.features.quality.observed import QualityFigures

CalendarOf = Callable[[SeriesKey], Awaitable[SessionCalendar]]
HoursOf = Callable[[SeriesKey], Awaitable[TradingHours]]


@dataclass(frozen=True, slots=True, kw_only=True)
class QualityConfig:
    thresholds: QualityThresholds
    policy: ReconciliationPolicy
    history_size: int
    max_flags: int
    max_bars: int


@dataclass(slots=True)
class _Locks:
    held: dict[SeriesKey, asyncio.Lock] = field(default_factory=dict)

    def of(self, key: SeriesKey) -> asyncio.Lock:
        return self.held.setdefault(key, asyncio.Lock())


def series_columns(bars: BarColumns) -> SeriesColumns:
    return SeriesColumns.of(bars.time, bars.open, bars.high, bars.low, bars.close, bars.volume)


def identity(key: SeriesKey) -> SeriesIdentity:
    return SeriesIdentity(source=key.source, symbol=key.symbol.ticker, interval=key.interval.code)


class QualityMonitor:
    def __init__(
        self, *, bars: OHLCVRepository, store: QualityRepository, providers: ProviderRegistry, cache: Cache,
        event_bus: EventBus, clock: Clock, hours_of: HoursOf, config: QualityConfig, figures: QualityFigures,
    ) -> None:
        self._bars = bars
        self._store = store
        self._providers = providers
        self._cache = cache
        self._bus = event_bus
        self._clock = clock
        self._hours_of = hours_of
        self.config = config
        self.figures = figures
        self.locks = _Locks()

    async def record(self, key: SeriesKey) -> SeriesQuality:
        return await self._store.get(key) or SeriesQuality()

    # --- full runs -----------------------------------------------------------------------------------

    async def check(self, key: SeriesKey, *, rewritten: Span | None = None, rejected: int = 0) -> SeriesQuality:
        async with self.locks.of(key):
            return await self._check(key, await self.record(key), rewritten=rewritten, rejected=rejected)

    async def _check(self, key: SeriesKey, record: SeriesQuality, *, rewritten: Span | None = None,
                     rejected: int = 0, reconciliation: Reconciliation | None = None) -> SeriesQuality:
        record = record.with_rejected(rejected)
        calendar = (await self._hours_of(key)).calendar
        stored = await self._bars.read(key, limit=self.config.max_bars)
        columns = series_columns(stored)
        context = self._context(key, calendar, columns, record.rejected_upstream)
        report = await asyncio.to_thread(run_checks, columns, context, self.config.thresholds, reconciliation)
        after = record.after_run(report, rewritten=rewritten, history_size=self.config.history_size,
                                 max_flags=self.config.max_flags)
        await self._saved(key, record, after)
        self.figures.ran(key, record, after)
        announced = record.announced()
        for event in quality_issues_raised(None, report, identity(key), occurred_at=self._clock.now(),
                                           correlation_id=get_correlation_id()):
            if event.check not in announced:
                await self._bus.publish(event)
        return after

    def _context(self, key: SeriesKey, calendar: SessionCalendar, columns: SeriesColumns,
                 rejected: int) -> CheckContext:
        now = int(self._clock.now())
        expected = calendar.bar_times(key.interval, int(columns.time[0]), now) if len(columns) else None
        return CheckContext(now=now, interval_seconds=key.interval.seconds, expected_times=expected,
                            market_open_now=calendar.is_trading(now), rejected_upstream=rejected)

    async def _saved(self, key: SeriesKey, before: SeriesQuality, after: SeriesQuality) -> None:
        await self._store.save(key, after)
        if before.excluded_spans() != after.excluded_spans():
            await self._cache.delete_pattern(cache_keys.ohlcv_series_pattern(key))

    async def save_live(self, key: SeriesKey, change: Callable[[SeriesQuality], SeriesQuality]
                        ) -> tuple[SeriesQuality, SeriesQuality]:
        """Apply a live finding to the stored record (under the series' lock): the record before and after."""
        async with self.locks.of(key):
            before = await self.record(key)
            after = change(before)
            if after is not before:
                await self._saved(key, before, after)
            return before, after

    # --- verdicts ------------------------------------------------------------------------------------

    async def judge(self, key: SeriesKey, check: str, bar_time: int, *, confirm: bool) -> SeriesQuality:
        async with self.locks.of(key):
            before = await self.record(key)
            after = before.judged(check, bar_time, confirm=confirm, now=int(self._clock.now()))
            if after is None:
                raise NotFound(f"{key} has no {check} flag at bar {bar_time}", field="bar_time")
            await self._saved(key, before, after)
            return after

    # --- reconciliation ------------------------------------------------------------------------------

    async def reconcile(self, key: SeriesKey) -> SeriesQuality:
        async with self.locks.of(key):
            record = await self.record(key)
            if record.live_since is None:
                raise NotFound(f"{key} has no live-built bars waiting to be reconciled", field="symbol")
            hours = await self._hours_of(key)
            live, source = await self._live_and_source(key, hours, record.live_since)
            if not len(source):
                return record  # the source's history does not cover the live bars yet
            found = reconcile(live, source, self.config.thresholds)
            written, replaced = await self._apply_policy(key, found, source)
            span = (int(source.time[0]), int(source.time[-1]))
            entry = ReconciliationRecord.of(found, span=span, now=int(self._clock.now()),
                                            policy=self.config.policy.value, replaced=replaced)
            if written:  # judge what is stored now: the source's bars where they were written
                stored = await self._bars.read(key, start=span[0], end=span[1])
                found = reconcile(series_columns(stored.map(lambda c: c[~stored.partial])), source,
                                  self.config.thresholds)
            after_live = await self._bars.read(key, start=span[1] + 1, limit=1, oldest_first=True)
            record = record.reconciled(entry, next_live=int(after_live.time[0]) if len(after_live) else None)
            self.figures.reconciled(entry)
            return await self._check(key, record, rewritten=span if written else None, reconciliation=found)

    async def _live_and_source(self, key: SeriesKey, hours: TradingHours,
                               since: int) -> tuple[SeriesColumns, SeriesColumns]:
        """The stored (live-built) complete bars from `since` and the source's bars of the same closed
        periods, both cut at the newest bar the source has."""
        now = int(self._clock.now())
        calendar = hours.calendar
        fetched = await self._providers.history(key.source).fetch_range(key.symbol, key.interval, since, now,
                                                                        hours=hours)
        source_bars = BarColumns.from_bars(key, fetched)
        spans = calendar.bar_spans(key.interval, since, now)
        closed = np.isin(source_bars.time, spans.opens[spans.closes <= now]) & ~source_bars.partial
        source_bars = source_bars.map(lambda column: column[closed])
        if not len(source_bars):
            return series_columns(source_bars), series_columns(source_bars)
        stored = await self._bars.read(key, start=since, end=int(source_bars.time[-1]))
        stored = stored.map(lambda column: column[~stored.partial])
        return series_columns(stored), series_columns(source_bars)

    async def _apply_policy(self, key: SeriesKey, found: Reconciliation, source: SeriesColumns) -> tuple[int, int]:
        """The source's bars written under the policy: how many, and how many of them replaced a live bar."""
        writes = bars_to_write(found, source, self.config.policy)
        if not len(writes):
            return 0, 0
        columns = BarColumns.of(key, writes.time, writes.open, writes.high, writes.low, writes.close, writes.volume)
        await self._bars.upsert(key, columns)
        await self._cache.delete_pattern(cache_keys.ohlcv_series_pattern(key))
        return len(writes), int(np.count_nonzero(np.isin(writes.time, found.differing_times)))
