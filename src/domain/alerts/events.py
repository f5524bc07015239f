"""What alert rules raise when they are evaluated."""

from collections.abc import Mapping
from dataclasses import dataclass

from src.domain.events import DomainEvent
from src.domain.market_data.interval import Interval
from src.domain.market_data.symbol import Symbol


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertTriggeredEvent(DomainEvent):
    """A rule fired. `occurred_at` is when it was evaluated; `triggered_at` when it became true."""

    rule_id: str
    owner: str
    source: str
    symbol: Symbol
    interval: Interval | None
    condition_kind: str
    condition: Mapping[str, object]  # the condition's dict form
    values: Mapping[str, float]  # what fired it: price, level, indicator outputs by name...
    triggered_at: float  # market time: the tick's time, or the close time of the bar
    late: bool  # found on a bar evaluated after a later bar had closed (a backfill)
    bar_time: int | None  # open time of the bar that fired it; None for a live tick
    trigger_count: int  # 1 on the rule's first trigger
    channels: tuple[str, ...]
    note: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertExpiredEvent(DomainEvent):
    rule_id: str
    owner: str
    expires_at: float
