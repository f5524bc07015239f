"""The quality slice: checks on every write to a series (syncs and live bars) and on demand, anomaly flags
users confirm or clear, scores per series and source with their history, reconciliation of live-built bars
with the source's, the `check_quality` job and the quality metrics."""

from dataclasses import fields
from typing import Protocol

from src.common.calendars import SymbolCalendars
from src.common.jobs import Every, JobSpec, JobSummary
from src.common.lifecycle import Component
from src.common.ports import QualityRepository, SymbolRepository
from src.common.settings import Settings
from src.domain.events import BarCompletedEvent, BarSyncedEvent
from src.domain.market_data import SeriesKey
from src.domain.market_data.trading_hours import TradingHours
from src.domain.quality import QualityThresholds, ReconciliationPolicy
from src.features.quality import handlers as h
from src.features.quality import messages as m
from src.features.quality.live import LiveQuality
from src.features.quality.monitor import QualityConfig, QualityMonitor
from src.features.quality.observed import QualityFigures
from src.features.quality.routes import router
from src.features.quality.subscribers import CheckQualityOnBarCompleted, CheckQualityOnSync
from src.features.shared.deps import SharedDeps
from src.features.shared.slice import Counter, LabeledMetric, Slice, SliceParts


class QualityDeps(SharedDeps, Protocol):
    @property
    def quality(self) -> QualityRepository: ...
    @property
    def symbols(self) -> SymbolRepository: ...
    @property
    def calendars(self) -> SymbolCalendars: ...


def thresholds_of(settings: Settings) -> QualityThresholds:
    """Each threshold from its `quality_<name>` setting."""
    return QualityThresholds(**{f.name: getattr(settings, f"quality_{f.name}") for f in fields(QualityThresholds)})


def config_of(settings: Settings) -> QualityConfig:
    return QualityConfig(
        thresholds=thresholds_of(settings), policy=ReconciliationPolicy(settings.quality_reconcile_policy),
        history_size=settings.quality_history_size, max_flags=settings.quality_max_flags,
        max_bars=settings.quality_max_bars,
    )


def build(d: QualityDeps) -> SliceParts:
    figures = QualityFigures()
    calendars = d.calendars

    async def hours_of(key: SeriesKey) -> TradingHours:
        return await calendars.hours(key.instrument)

    monitor = QualityMonitor(bars=d.bars, store=d.quality, providers=d.providers, cache=d.cache,
                             event_bus=d.event_bus, clock=d.clock, hours_of=hours_of, config=config_of(d.settings),
                             figures=figures)
    live = LiveQuality(monitor, d.bars, d.event_bus, d.clock, calendars.calendar_of)
    store, mediator = d.quality, d.mediator
    after_sync = CheckQualityOnSync(monitor, live, d.settings.quality_check_concurrency)

    async def seed_figures() -> None:
        figures.seed(await store.list())

    async def check_all() -> JobSummary:
        summary: JobSummary = await mediator.send(m.CheckAllSeriesCommand())
        return summary

    return SliceParts(
        handlers={
            m.CheckSeriesQualityCommand: h.CheckSeriesQualityHandler(monitor, d.bars, d.providers),
            m.ReconcileLiveBarsCommand: h.ReconcileLiveBarsHandler(monitor, d.bars, d.providers),
            m.JudgeFlagCommand: h.JudgeFlagHandler(monitor),
            m.GetSeriesQualityQuery: h.GetSeriesQualityHandler(d.quality),
            m.GetQualitySummaryQuery: h.GetQualitySummaryHandler(d.quality),
            m.CheckAllSeriesCommand: h.CheckAllSeriesHandler(monitor, d.quality, d.symbols, d.bars),
        },
        subscribers={
            BarSyncedEvent: [after_sync],
            BarCompletedEvent: [CheckQualityOnBarCompleted(live)],
        },
        jobs=[JobSpec("check_quality", Every(d.settings.quality_check_every_s), check_all)],
        components=[Component("quality", start=seed_figures, stop=after_sync.drain)],
        counters=[
            Counter("quality_flagged_bars", "Bars covered by anomaly flags newly raised", lambda: figures.flagged_bars),
            Counter("quality_checks", "Full quality runs over a series", lambda: figures.runs),
            Counter("quality_reconciliations", "Reconciliations of live-built bars with the source's",
                    lambda: figures.reconciliations),
            Counter("quality_live_bars_differing", "Live-built bars that differed from the source's (or that only "
                    "one side had) when reconciled", lambda: figures.differing_live_bars),
        ],
        labeled=[
            LabeledMetric("quality_anomalies", "Anomalies newly flagged, by check", "check",
                          lambda: dict(figures.anomalies)),
            LabeledMetric("quality_score", "Quality score (0-100) of each source: its series' latest scores "
                          "weighted by their bars", "source", figures.source_scores, gauge=True),
            LabeledMetric("quality_series_score", "Latest quality score (0-100) of each series", "series",
                          figures.series_scores, gauge=True),
        ],
        exposed={"monitor": monitor, "live": live, "figures": figures, "after_sync": after_sync},
    )


SLICE = Slice("quality", build, routers=(router,))
