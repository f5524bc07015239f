"""Plain-dict shapes of quotes and bars, shared by the cache entries, the HTTP routes and the WebSocket.
Bars have the one public bar shape (`common.bar_shape`); quotes the same time fields."""

from typing import Any

from src.common.bar_shape import bar_fields
from src.common.time_format import iso_utc
from src.domain.market_data import Instrument, Interval, OHLCVBar, QuoteTick


def quote_payload(instrument: Instrument, tick: QuoteTick) -> dict[str, Any]:
    return {
        "type": "quote",
        "source": instrument.source,
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


def bar_payload(instrument: Instrument, bar: OHLCVBar, *, closed: bool) -> dict[str, Any]:
    return {
        "type": "bar",
        "source": instrument.source,
        "symbol": instrument.symbol.ticker,
        "interval": bar.interval.code,
        "closed": closed,
        **bar_fields(bar),
    }


def indicator_payload(instrument: Instrument, interval: Interval, bar_time: int,
                      values: dict[str, float | None]) -> dict[str, Any]:
    """Indicator values after the bar opening at `bar_time` closed (None: not yet defined)."""
    return {
        "type": "indicator",
        "source": instrument.source,
        "symbol": instrument.symbol.ticker,
        "interval": interval.code,
        "time": iso_utc(bar_time),
        "timestamp": bar_time,
        "values": values,
    }
