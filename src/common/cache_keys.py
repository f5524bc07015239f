"""Cache key names and lifetimes, in one place for every writer and reader. Every key names its source:
the same symbol from two sources is two entries."""

from src.domain.market_data import Instrument, Interval, SeriesKey

QUOTE_TTL_S = 60
CURRENT_BAR_TTL_S = 300
OHLCV_QUERY_TTL_S = 300
# Also kept in each process in front of Redis (hot, rarely written); quotes and bars change every tick.
NEAR_CACHED_PREFIXES = ("ohlcv:",)
_SERIES_PARTS = 5  # "ohlcv", source, code, exchange, interval


def latest_quote(instrument: Instrument) -> str:
    return f"quote:latest:{instrument.source}:{instrument.symbol.exchange}:{instrument.symbol.code}"


def current_bar(instrument: Instrument, interval: Interval) -> str:
    symbol = instrument.symbol
    return f"bar:current:{instrument.source}:{symbol.exchange}:{symbol.code}:{interval.code}"


def ohlcv_query(key: SeriesKey, *parts: object) -> str:
    tail = ":".join("" if part is None else str(part) for part in parts)
    return f"{_ohlcv_prefix(key)}:{tail}"


def derived_query(key: SeriesKey, kind: str, *parts: object) -> str:
    """A cached result computed from one series' bars (`kind`: "indicators", "features"): a key under the
    series' `ohlcv:` prefix, so the invalidation after every write to the series (`ohlcv_series_pattern`)
    and its generation guard cover it as they cover the bars."""
    return ohlcv_query(key, kind, *parts)


def ohlcv_series_pattern(key: SeriesKey) -> str:
    """Glob matching every cached query of one series, for invalidation after it is written."""
    return f"{_ohlcv_prefix(key)}:*"


def ohlcv_all_pattern() -> str:
    """Glob matching every cached ohlcv query of every series (dropped at start-up: a crash may have
    skipped an invalidation)."""
    return "ohlcv:*"


def _ohlcv_prefix(key: SeriesKey) -> str:
    # Symbol before exchange, as the product's key scheme has it; the source first.
    return f"ohlcv:{key.source}:{key.symbol.code}:{key.symbol.exchange}:{key.interval.code}"


def series_generation(key_or_pattern: str) -> str | None:
    """The generation counter of the series an `ohlcv:` query key or invalidation pattern belongs to.

    Invalidating a series bumps it; a query result computed from the store is cached only if the
    generation is still the one read before computing, so a read racing a write cannot cache old bars.
    """
    parts = key_or_pattern.split(":", _SERIES_PARTS)
    series = parts[:_SERIES_PARTS]
    if parts[0] != "ohlcv" or len(parts) <= _SERIES_PARTS or any(c in "".join(series[1:]) for c in "*?["):
        return None
    return "gen:" + ":".join(series)
