"""The `data` of each webhook event type. Bars have the one public bar shape (`common.bar_shape`)."""

from typing import Any

from src.common.bar_shape import bar_fields, series_fields
from src.common.time_format import iso_utc_or_none
from src.domain.events import BarCompletedEvent, BarSyncedEvent
from src.domain.quality import DataQualityIssueEvent


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


def quality_issue(event: DataQualityIssueEvent) -> dict[str, Any]:
    exchange, _, code = event.symbol.partition(":")
    return {
        "source": event.source, "exchange": exchange, "symbol": code, "interval": event.interval,
        "check": event.check, "severity": event.severity.value, "detail": event.detail,
        "bar_time": iso_utc_or_none(event.bar_time), "bar_timestamp": event.bar_time,
    }
