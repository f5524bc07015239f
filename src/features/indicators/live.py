"""Indicators and feature vectors of live series, kept current as their bars close.

For every series (any source, any interval) whose live bar closes: an `IndicatorState` of the configured
indicators and a `FeatureState` per configured feature set, seeded the first time from the stored warm-up
history before that bar, then advanced by each closed bar (constant work per bar for indicators; bounded by
the set's lookback for features, never by the series' length).

Rules:
* A bar at or before the last bar a series has taken is a revision or a repeat: ignored (states never take
  a bar back).
* A sync of a series resets it (`forget`): its next closed bar seeds it again from the store, so a rewritten
  history is never mixed into states built from the old one.
"""

import asyncio
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from src.domain.features import FeatureSet, FeatureState
from src.domain.indicators import BarPoint, IndicatorSpec, IndicatorState, warmup
from src.domain.market_data import OHLCVBar, SeriesKey
from src.domain.market_data.calendar import SessionCalendar
from src.features.indicators.reading import History, SeriesReader, Window
from src.features.indicators.sessions import session_ids, utc_offsets
from src.features.indicators.tables import none_if_nan


@dataclass(frozen=True, slots=True)
class Latest:
    """Values at the bar opening at `bar_time`; `live` when kept by a live series, else computed from the store."""

    key: SeriesKey
    bar_time: int
    values: dict[str, float | None]
    live: bool


class _Series:
    __slots__ = ("features", "indicators", "last_time")

    def __init__(self, indicators: IndicatorState, features: dict[str, FeatureState]) -> None:
        self.indicators = indicators
        self.features = features
        self.last_time = -math.inf

    def advance(self, bar: OHLCVBar, calendar: SessionCalendar) -> None:
        time = np.array([bar.time], dtype=np.int64)
        point = BarPoint.of(bar, int(session_ids(calendar, bar.interval, time)[0]))
        self.indicators.update(point)
        offset = int(utc_offsets(calendar, time)[0])
        for state in self.features.values():
            state.update(point, offset)
        self.last_time = bar.time


class LiveIndicators:
    def __init__(self, reader: SeriesReader, specs: Iterable[IndicatorSpec],
                 feature_sets: Iterable[FeatureSet]) -> None:
        self._reader = reader
        self.specs = tuple(specs)
        self.feature_sets = {feature_set.version: feature_set for feature_set in feature_sets}
        needed = warmup(self.specs)
        for feature_set in self.feature_sets.values():
            needed |= feature_set.warmup
        self._needed = needed
        self._series: dict[SeriesKey, _Series] = {}
        self._locks: dict[SeriesKey, asyncio.Lock] = {}

    @property
    def series(self) -> list[SeriesKey]:
        return list(self._series)

    async def advance(self, key: SeriesKey, bar: OHLCVBar) -> Latest | None:
        """Take a closed bar (already stored); the new latest indicator values, None when it was ignored."""
        async with self._locks.setdefault(key, asyncio.Lock()):
            series = self._series.get(key)
            if series is not None and bar.time <= series.last_time:
                return None
            if series is None:
                series = self._series[key] = self._seeded(await self._history_before(key, bar.time))
            series.advance(bar, await self._reader.calendar_for(key))
        return self.latest_indicators(key)

    async def forget(self, key: SeriesKey) -> None:
        async with self._locks.setdefault(key, asyncio.Lock()):
            self._series.pop(key, None)

    def latest_indicators(self, key: SeriesKey) -> Latest | None:
        series = self._series.get(key)
        if series is None:
            return None
        return Latest(key, int(series.last_time), _plain(series.indicators.latest), live=True)

    def latest_features(self, key: SeriesKey, version: str) -> Latest | None:
        series = self._series.get(key)
        state = series.features.get(version) if series is not None else None
        if series is None or state is None:
            return None
        return Latest(key, int(series.last_time), _plain(state.latest), live=True)

    async def _history_before(self, key: SeriesKey, time: int) -> History:
        return await self._reader.read(key, Window(end=time - 1, limit=1), self._needed)

    def _seeded(self, history: History) -> _Series:
        columns, offsets = history.columns, history.utc_offset
        features = {version: FeatureState.from_history(feature_set, columns, offsets)
                    for version, feature_set in self.feature_sets.items()}
        return _Series(IndicatorState.from_history(self.specs, columns), features)


def _plain(values: dict[str, float]) -> dict[str, float | None]:
    return {name: none_if_nan(value) for name, value in values.items()}
