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


def series_generation(key_or_pattern: str) -> str | None:
    """The generation counter of the series an `ohlcv:` query key or invalidation pattern belongs to.

    Invalidating a series bumps it; a query result computed from the store is cached only if the
    generation is still the one read before computing, so a read racing a write cannot cache old bars.
    """
    parts = key_or_pattern.split(":", 4)
    if parts[0] != "ohlcv" or len(parts) < 5 or any(c in "".join(parts[1:4]) for c in "*?["):
        return None
    return "gen:" + ":".join(parts[:4])
