"""What the live indicators raise when a series' bar closes."""

from collections.abc import Mapping
from dataclasses import dataclass

from src.domain.events import DomainEvent
from src.domain.market_data.series import SeriesKey


@dataclass(frozen=True, slots=True, kw_only=True)
class IndicatorsUpdatedEvent(DomainEvent):
    """The latest indicator values of a live series after its bar opening at `bar_time` closed."""

    key: SeriesKey
    bar_time: int  # open time of the closed bar, epoch seconds UTC
    specs: tuple[str, ...]  # the indicator specs computed, e.g. ("rsi:14", "macd:12:26:9")
    values: Mapping[str, float | None]  # output column -> value; None while it does not exist yet
