"""Handlers of the indicators slice. Tables are served as cached response bytes, keyed under their series
(so every write to it invalidates them, as it does its bars); a miss computes off the event loop."""

import asyncio
from functools import lru_cache
from typing import Any

from src.common import cache_keys
from src.common.errors import NotFound
from src.common.ports import Cache
from src.common.providers import ProviderRegistry
from src.domain.features import FEATURE_SETS
from src.domain.indicators import IndicatorSpec, warmup
from src.domain.market_data import SeriesKey
from src.features.indicators import catalog
from src.features.indicators.live import Latest, LiveIndicators
from src.features.indicators.messages import (
    GetFeaturesQuery,
    GetIndicatorsQuery,
    GetLatestFeaturesQuery,
    GetLatestIndicatorsQuery,
    ListFeatureSetsQuery,
    ListIndicatorsQuery,
)
from src.features.indicators.reading import History, SeriesReader, Window
from src.features.indicators.serialization import RENDERERS
from src.features.indicators.tables import feature_table, indicator_table, last_row

QUERY_TTL_S = cache_keys.OHLCV_QUERY_TTL_S
_NEWEST = Window(limit=1)


def _window_parts(window: Window) -> tuple[object, ...]:
    return window.start, window.end, window.limit, int(window.exclude_flagged), int(window.oldest_first)


@lru_cache(maxsize=1024)
def _specs_text(specs: tuple[IndicatorSpec, ...]) -> str:
    return ",".join(spec.text for spec in specs)


class ListIndicatorsHandler:
    async def __call__(self, query: ListIndicatorsQuery) -> dict[str, Any]:
        return catalog.indicators()


class GetIndicatorsHandler:
    def __init__(self, reader: SeriesReader, cache: Cache, providers: ProviderRegistry) -> None:
        self._reader = reader
        self._cache = cache
        self._providers = providers

    async def __call__(self, query: GetIndicatorsQuery) -> bytes:
        self._providers.get(query.key.source)  # an unregistered source is refused, not an empty series
        key = cache_keys.derived_query(query.key, "indicators", _specs_text(query.specs),
                                       *_window_parts(query.window), int(query.with_bars), query.format)
        body: bytes = await self._cache.get_or_set(key, QUERY_TTL_S, lambda: self._render(query))
        return body

    async def _render(self, query: GetIndicatorsQuery) -> bytes:
        history = await self._reader.read(query.key, query.window, warmup(query.specs))
        render = RENDERERS[query.format]
        return await asyncio.to_thread(
            lambda: render(indicator_table(history, query.specs, with_bars=query.with_bars)))


class GetLatestIndicatorsHandler:
    """The live series' values when it is live here; else computed from the store at its newest bar."""

    def __init__(self, live: LiveIndicators, reader: SeriesReader, providers: ProviderRegistry) -> None:
        self._live = live
        self._reader = reader
        self._providers = providers

    async def __call__(self, query: GetLatestIndicatorsQuery) -> dict[str, Any]:
        self._providers.get(query.key.source)
        specs = self._live.specs
        latest = self._live.latest_indicators(query.key)
        if latest is None:
            history = _stored(query.key, await self._reader.read(query.key, _NEWEST, warmup(specs)))
            latest = Latest(query.key, int(history.asked("time")[0]), last_row(indicator_table(history, specs)),
                            live=False)
        return catalog.latest_payload(latest, {"indicators": [spec.text for spec in specs]})


class ListFeatureSetsHandler:
    async def __call__(self, query: ListFeatureSetsQuery) -> dict[str, Any]:
        return catalog.feature_sets(FEATURE_SETS.values())


class GetFeaturesHandler:
    def __init__(self, reader: SeriesReader, cache: Cache, providers: ProviderRegistry) -> None:
        self._reader = reader
        self._cache = cache
        self._providers = providers

    async def __call__(self, query: GetFeaturesQuery) -> bytes:
        self._providers.get(query.key.source)
        key = cache_keys.derived_query(query.key, "features", query.feature_set.version,
                                       *_window_parts(query.window), query.format)
        body: bytes = await self._cache.get_or_set(key, QUERY_TTL_S, lambda: self._render(query))
        return body

    async def _render(self, query: GetFeaturesQuery) -> bytes:
        history = await self._reader.read(query.key, query.window, query.feature_set.warmup)
        render = RENDERERS[query.format]
        return await asyncio.to_thread(lambda: render(feature_table(history, query.feature_set)))


class GetLatestFeaturesHandler:
    def __init__(self, live: LiveIndicators, reader: SeriesReader, providers: ProviderRegistry) -> None:
        self._live = live
        self._reader = reader
        self._providers = providers

    async def __call__(self, query: GetLatestFeaturesQuery) -> dict[str, Any]:
        self._providers.get(query.key.source)
        feature_set = query.feature_set
        latest = self._live.latest_features(query.key, feature_set.version)
        if latest is None:
            history = _stored(query.key, await self._reader.read(query.key, _NEWEST, feature_set.warmup))
            latest = Latest(query.key, int(history.asked("time")[0]), last_row(feature_table(history, feature_set)),
                            live=False)
        return catalog.latest_payload(latest, {"version": feature_set.version})


def _stored(key: SeriesKey, history: History) -> History:
    if not len(history):
        raise NotFound(f"no bars stored for {key}", field="symbol")
    return history
