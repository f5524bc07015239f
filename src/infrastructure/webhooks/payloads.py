"""The JSON delivered for each event type: `{id, type, occurred_at, correlation_id, data}`."""

from typing import Any

from src.domain.events import BarCompletedEvent, BarSyncedEvent
from src.domain.market_data import OHLCVBar, SeriesKey


def _series(key: SeriesKey) -> dict[str, Any]:
    return {"exchange": key.symbol.exchange, "symbol": key.symbol.code, "interval": key.interval.code}


def _bar(bar: OHLCVBar) -> dict[str, Any]:
    return {
        "time": bar.time, "open": bar.open, "high": bar.high, "low": bar.low,
        "close": bar.close, "volume": bar.volume,
    }


def bar_synced(event: BarSyncedEvent) -> dict[str, Any]:
    return {
        **_series(event.key),
        "bars_fetched": event.bars_fetched,
        "bars_written": event.bars_written,
        "first_bar_time": event.first_bar_time,
        "last_bar_time": event.last_bar_time,
    }


def bar_completed(event: BarCompletedEvent) -> dict[str, Any]:
    return {**_series(event.key), "bar": _bar(event.bar)}


EVENT_TYPES: dict[type, tuple[str, Any]] = {
    BarSyncedEvent: ("bar.synced", bar_synced),
    BarCompletedEvent: ("bar.completed", bar_completed),
}
