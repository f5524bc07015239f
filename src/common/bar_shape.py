"""A bar's public shape, the one serializer used by every response, frame, cache entry and webhook:
`time` as ISO 8601 UTC plus `timestamp` as epoch seconds, then the prices and volume."""

from typing import Any

from src.common.time_format import iso_utc
from src.domain.market_data import OHLCVBar, SeriesKey


def series_fields(key: SeriesKey) -> dict[str, str]:
    return {
        "source": key.source,
        "exchange": key.symbol.exchange,
        "symbol": key.symbol.code,
        "interval": key.interval.code,
    }


def bar_fields(bar: OHLCVBar) -> dict[str, Any]:
    return {
        "time": iso_utc(bar.time),
        "timestamp": bar.time,
        "open": bar.open,
        "high": bar.high,
        "low": bar.low,
        "close": bar.close,
        "volume": bar.volume,
        "partial": bar.partial,
    }
