"""Cache keys and their TTLs, in one place.

- `quote:latest:{EXCHANGE}:{SYMBOL}`              60 s
- `bar:current:{EXCHANGE}:{SYMBOL}:{interval}`    300 s
- `ohlcv:{SYMBOL}:{EXCHANGE}:{interval}:{...}`    300 s, the query parts after the series
"""

from src.common.ports import Cache
from src.domain.market_data import Interval, SeriesKey, Symbol

QUOTE_LATEST_TTL = 60.0
BAR_CURRENT_TTL = 300.0
OHLCV_QUERY_TTL = 300.0


def quote_latest_key(symbol: Symbol) -> str:
    return f"quote:latest:{symbol.exchange}:{symbol.code}"


def bar_current_key(symbol: Symbol, interval: Interval) -> str:
    return f"bar:current:{symbol.exchange}:{symbol.code}:{interval.code}"


def _ohlcv_prefix(key: SeriesKey) -> str:
    return f"ohlcv:{key.symbol.code}:{key.symbol.exchange}:{key.interval.code}:"


def ohlcv_query_key(key: SeriesKey, *parts: object) -> str:
    """`ohlcv:AAPL:NASDAQ:1m:start=..:end=..` style: parts are joined with ':'; None becomes ''."""
    return _ohlcv_prefix(key) + ":".join("" if p is None else str(p) for p in parts)


def ohlcv_query_pattern(key: SeriesKey) -> str:
    """Glob matching every query key of the series (symbol codes never hold glob characters)."""
    return _ohlcv_prefix(key) + "*"


async def invalidate_series_queries(cache: Cache, key: SeriesKey) -> int:
    """Drop every cached query of a series, after the series was written."""
    return await cache.delete_pattern(ohlcv_query_pattern(key))
