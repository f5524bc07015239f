"""Plain-dict shapes of quotes and bars, shared by the cache entries, the HTTP routes and the WebSocket."""

from typing import Any

from src.domain.market_data import OHLCVBar, QuoteTick, Symbol


def quote_payload(tick: QuoteTick) -> dict[str, Any]:
    return {
        "type": "quote",
        "symbol": tick.symbol.ticker,
        "time": tick.time,
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
        "time": bar.time,
        "open": bar.open,
        "high": bar.high,
        "low": bar.low,
        "close": bar.close,
        "volume": bar.volume,
    }
