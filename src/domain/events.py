"""Domain events: named for what happened, immutable, carrying plain data."""

from dataclasses import dataclass

from src.domain.market_data.bar import OHLCVBar
from src.domain.market_data.series import SeriesKey


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainEvent:
    occurred_at: float  # epoch seconds, from the caller's clock
    correlation_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BarSyncedEvent(DomainEvent):
    key: SeriesKey
    bars_fetched: int
    bars_written: int
    first_bar_time: int | None
    last_bar_time: int | None
    bars_rejected: int = 0  # the source's bars that could not be stored (at no bar open of the calendar)


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncFailedEvent(DomainEvent):
    key: SeriesKey
    error_type: str
    error: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BarCompletedEvent(DomainEvent):
    key: SeriesKey
    bar: OHLCVBar
