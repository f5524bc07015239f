"""Handlers of the quality slice: load, call the monitor (or read the store), return what the route renders."""

from dataclasses import dataclass, replace

from src.common.errors import NotFound
from src.common.jobs import JobSummary
from src.common.ports import OHLCVRepository, QualityRepository, SymbolRepository
from src.common.providers import ProviderRegistry
from src.domain.market_data import SeriesKey
from src.domain.quality import AnomalyFlag, SeriesScore, aggregate_scores
from src.domain.quality.series import SeriesQuality
from src.features.quality.messages import (
    CheckAllSeriesCommand,
    CheckSeriesQualityCommand,
    GetQualitySummaryQuery,
    GetSeriesQualityQuery,
    JudgeFlagCommand,
    ReconcileLiveBarsCommand,
)
from src.features.quality.monitor import QualityMonitor


@dataclass(frozen=True, slots=True)
class SeriesQualityPage:
    key: SeriesKey
    quality: SeriesQuality
    flags: tuple[AnomalyFlag, ...]  # the page asked for, newest bar first
    total_flags: int
    offset: int
    limit: int


@dataclass(frozen=True, slots=True)
class QualitySummary:
    series: tuple[tuple[SeriesKey, SeriesQuality], ...]  # worst score first
    total: int
    sources: dict[str, float]


def page_of(key: SeriesKey, quality: SeriesQuality, query: GetSeriesQualityQuery) -> SeriesQualityPage:
    chosen = [flag for flag in quality.flags if (query.state is None or flag.state is query.state)
              and (query.check is None or flag.anomaly.check == query.check)]
    chosen.sort(key=lambda flag: (flag.anomaly.bar_time, flag.anomaly.check), reverse=True)
    shown = replace(quality, history=quality.history[-query.history:] if query.history else ())
    return SeriesQualityPage(key, shown, tuple(chosen[query.offset:query.offset + query.limit]), len(chosen),
                             query.offset, query.limit)


async def _stored_series(bars: OHLCVRepository, providers: ProviderRegistry, key: SeriesKey) -> None:
    providers.get(key.source)  # an unregistered source is refused, not an empty series
    if not await bars.has_bars(key):
        raise NotFound(f"no bars are stored for {key}; sync it first", field="symbol")


class CheckSeriesQualityHandler:
    def __init__(self, monitor: QualityMonitor, bars: OHLCVRepository, providers: ProviderRegistry) -> None:
        self._monitor = monitor
        self._bars = bars
        self._providers = providers

    async def __call__(self, command: CheckSeriesQualityCommand) -> SeriesQualityPage:
        await _stored_series(self._bars, self._providers, command.key)
        quality = await self._monitor.check(command.key)
        return page_of(command.key, quality, GetSeriesQualityQuery(command.key))


class ReconcileLiveBarsHandler:
    def __init__(self, monitor: QualityMonitor, bars: OHLCVRepository, providers: ProviderRegistry) -> None:
        self._monitor = monitor
        self._bars = bars
        self._providers = providers

    async def __call__(self, command: ReconcileLiveBarsCommand) -> SeriesQualityPage:
        await _stored_series(self._bars, self._providers, command.key)
        quality = await self._monitor.reconcile(command.key)
        return page_of(command.key, quality, GetSeriesQualityQuery(command.key, check="live_vs_source"))


class JudgeFlagHandler:
    def __init__(self, monitor: QualityMonitor) -> None:
        self._monitor = monitor

    async def __call__(self, command: JudgeFlagCommand) -> AnomalyFlag:
        quality = await self._monitor.judge(command.key, command.check, command.bar_time, confirm=command.confirm)
        return next(flag for flag in quality.flags if flag.key == (command.check, command.bar_time))


class GetSeriesQualityHandler:
    def __init__(self, store: QualityRepository) -> None:
        self._store = store

    async def __call__(self, query: GetSeriesQualityQuery) -> SeriesQualityPage:
        quality = await self._store.get(query.key)
        if quality is None or quality.checked_at is None:
            raise NotFound(f"{query.key} has not been checked yet (sync it, or POST …/check)", field="symbol")
        return page_of(query.key, quality, query)


class GetQualitySummaryHandler:
    def __init__(self, store: QualityRepository) -> None:
        self._store = store

    async def __call__(self, query: GetQualitySummaryQuery) -> QualitySummary:
        checked = [(key, quality) for key, quality in await self._store.list()
                   if quality.checked_at is not None and (query.source is None or key.source == query.source)]
        checked.sort(key=lambda item: (item[1].score, str(item[0])))
        sources = aggregate_scores(SeriesScore(key.source, q.score, q.bar_count) for key, q in checked)
        return QualitySummary(tuple(checked[:query.limit]), len(checked), sources)


class CheckAllSeriesHandler:
    """Every series tracked or checked before: reconciled when it owes it, else checked (a stale series is
    found here, when nothing else writes to it)."""

    def __init__(self, monitor: QualityMonitor, store: QualityRepository, symbols: SymbolRepository,
                 bars: OHLCVRepository) -> None:
        self._monitor = monitor
        self._store = store
        self._symbols = symbols
        self._bars = bars

    async def __call__(self, command: CheckAllSeriesCommand) -> JobSummary:
        known = dict(await self._store.list())
        tracked = [SeriesKey(t.symbol, interval, t.source)
                   for t in await self._symbols.list() for interval in t.intervals]
        errors: list[str] = []
        keys = list(dict.fromkeys([*known, *tracked]))
        for key in keys:
            try:
                if known.get(key) is not None and known[key].live_since is not None:
                    await self._monitor.reconcile(key)
                elif await self._bars.has_bars(key):
                    await self._monitor.check(key)
            except Exception as error:  # one failing series never stops the others; the summary names it
                errors.append(f"{key}: {error}")
        return JobSummary(len(keys), len(keys) - len(errors), len(errors), tuple(errors[:20]))
