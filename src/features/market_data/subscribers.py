"""Reactions of the market-data slice to domain events."""

from src.common import cache_keys
from src.common.ports import Cache
from src.domain.events import BarSyncedEvent


class InvalidateBarCacheOnSync:
    """After a series is written, its cached query results are stale: drop them all."""

    def __init__(self, cache: Cache) -> None:
        self._cache = cache

    async def __call__(self, event: BarSyncedEvent) -> None:
        await self._cache.delete_pattern(cache_keys.ohlcv_series_pattern(event.key))



