"""The indicators slice: technical indicators and ML feature sets over stored series, kept current live."""

from typing import Protocol

from src.common.calendars import SymbolCalendars
from src.common.ports import QualityRepository
from src.domain.events import BarCompletedEvent, BarSyncedEvent
from src.domain.features import feature_set
from src.domain.indicators import parse_specs
from src.features.indicators import handlers as h
from src.features.indicators import messages as m
from src.features.indicators.live import LiveIndicators
from src.features.indicators.reading import SeriesReader
from src.features.indicators.routes import router
from src.features.indicators.subscribers import ResetLiveIndicatorsOnSync, UpdateIndicatorsOnBarCompleted
from src.features.shared.deps import SharedDeps
from src.features.shared.slice import Slice, SliceParts


class IndicatorsDeps(SharedDeps, Protocol):
    @property
    def calendars(self) -> SymbolCalendars: ...
    @property
    def quality(self) -> QualityRepository: ...  # the bars quality flags cover, for `exclude_flagged`


def build(d: IndicatorsDeps) -> SliceParts:
    reader = SeriesReader(d.bars, d.calendars.calendar_of, d.quality.excluded_spans)
    live = LiveIndicators(reader, parse_specs(d.settings.live_indicators),
                          [feature_set(version) for version in d.settings.live_feature_sets])
    return SliceParts(
        handlers={
            m.ListIndicatorsQuery: h.ListIndicatorsHandler(),
            m.GetIndicatorsQuery: h.GetIndicatorsHandler(reader, d.cache, d.providers),
            m.GetLatestIndicatorsQuery: h.GetLatestIndicatorsHandler(live, reader, d.providers),
            m.ListFeatureSetsQuery: h.ListFeatureSetsHandler(),
            m.GetFeaturesQuery: h.GetFeaturesHandler(reader, d.cache, d.providers),
            m.GetLatestFeaturesQuery: h.GetLatestFeaturesHandler(live, reader, d.providers),
        },
        subscribers={
            BarCompletedEvent: [UpdateIndicatorsOnBarCompleted(live, d.event_bus, d.clock)],
            BarSyncedEvent: [ResetLiveIndicatorsOnSync(live)],
        },
        exposed={"live": live, "reader": reader},
    )


SLICE = Slice("indicators", build, routers=(router,))
