"""The `data` of each webhook event type. Bars have the one public bar shape (`common.bar_shape`)."""

from typing import Any

from src.common.bar_shape import bar_fields, series_fields
from src.common.time_format import iso_utc_or_none
from src.domain.events import BarCompletedEvent, BarSyncedEvent


def bar_synced(event: BarSyncedEvent) -> dict[str, Any]:
    return {
        **series_fields(event.key),
        "bars_fetched": event.bars_fetched,
        "bars_written": event.bars_written,
        "first_bar_time": iso_utc_or_none(event.first_bar_time),
        "first_bar_timestamp": event.first_bar_time,
        "last_bar_time": iso_utc_or_none(event.last_bar_time),
        "last_bar_timestamp": event.last_bar_time,
    }


def bar_completed(event: BarCompletedEvent) -> dict[str, Any]:
    return {**series_fields(event.key), "bar": bar_fields(event.bar)}
