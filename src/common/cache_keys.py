"""Cache key names and lifetimes, in one place for every writer and reader."""

from src.domain.market_data import Interval, SeriesKey, Symbol

QUOTE_TTL_S = 60
CURRENT_BAR_TTL_S = 300
OHLCV_QUERY_TTL_S = 300
# Also kept in each process in front of Redis (hot, rarely written); quotes and bars change every tick.
NEAR_CACHED_PREFIXES = ("ohlcv:",)


def latest_quote(symbol: Symbol) -> str:
    return f"quote:latest:{symbol.exchange}:{symbol.code}"


def current_bar(symbol: Symbol, interval: Interval) -> str:
    return f"bar:current:{symbol.exchange}:{symbol.code}:{interval.code}"


def ohlcv_query(key: SeriesKey, *parts: object) -> str:
    tail = ":".join("" if part is None else str(part) for part in parts)
    return f"{_ohlcv_prefix(key)}:{tail}"


def ohlcv_series_pattern(key: SeriesKey) -> str:
    """Glob matching every cached query of one series, for invalidation after it is written."""
    return f"{_ohlcv_prefix(key)}:*"


def _ohlcv_prefix(key: SeriesKey) -> str:
    # Symbol first, then exchange, as the product's key scheme has it.
    return f"ohlcv:{key.symbol.code}:{key.symbol.exchange}:{key.interval.code}"
