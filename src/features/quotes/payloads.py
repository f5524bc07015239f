"""Plain-dict shapes of quotes and bars, shared by the cache entries, the HTTP routes and the WebSocket.
As in the stored-bars API, `time` is ISO 8601 (UTC) and `timestamp` the same instant in epoch seconds."""

import time
from datetime import UTC, datetime
from typing import Any

from src.domain.market_data import OHLCVBar, QuoteTick, Symbol


def quote_payload(tick: QuoteTick) -> dict[str, Any]:
    return {
        "type": "quote",
        "symbol": tick.symbol.ticker,
        "time": _iso(tick.time),
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
        "time": _iso(bar.time),
        "timestamp": bar.time,
        "open": bar.open,
        "high": bar.high,
        "low": bar.low,
        "close": bar.close,
        "volume": bar.volume,
    }


def _iso(ts: float) -> str:
    if ts == int(ts):
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
