"""Plain-dict shapes of quotes and bars, shared by the cache entries, the HTTP routes and the WebSocket.
As in the stored-bars API, `time` is ISO 8601 (UTC) and `timestamp` the same instant in epoch seconds."""

from typing import Any

from src.domain.market_data import OHLCVBar, QuoteTick, Symbol
from src.features.shared.time_format import iso_utc


def quote_payload(tick: QuoteTick) -> dict[str, Any]:
    return {
        "type": "quote",
        "symbol": tick.symbol.ticker,
        "time": iso_utc(tick.time),
        "timestamp": tick.time,
        "price": tick.price,
        "volume": tick.cumulative_volume,
        "bid": tick.bid,
        "ask": tick.ask,
        "change": tick.change,
        "change_percent": tick.change_percent,
    }


def bar_payload(symbol: Symbol, bar: OHLCVBar, *, closed: bool) -> dict[str, Any]:
    return {
        "type": "bar",
        "symbol": symbol.ticker,
        "interval": bar.interval.code,
        "closed": closed,
        "time": iso_utc(bar.time),
        "timestamp": bar.time,
        "open": bar.open,
        "high": bar.high,
        "low": bar.low,
        "close": bar.close,
        "volume": bar.volume,
    }

