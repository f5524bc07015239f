"""Commands and Queries of the alerts slice. Each carries the `actor`: whose rules it may touch."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from src.domain.market_data import Interval, Symbol


@dataclass(frozen=True, slots=True)
class AlertActor:
    """Who acts: the rules it creates are `user_id`'s; with `sees_all` (admins, or no authentication) it
    reaches everyone's, otherwise only its own (others' are not found)."""

    user_id: str
    sees_all: bool


@dataclass(frozen=True, slots=True)
class AlertSettings:
    """What an owner sets on a rule; `condition` as its plain dict (validated by the domain)."""

    source: str
    symbol: Symbol
    condition: Mapping[str, Any]
    interval: Interval | None = None
    cooldown_s: float = 0.0
    one_time: bool = False
    expires_at: float | None = None
    channels: tuple[str, ...] = ("log",)
    note: str = ""


@dataclass(frozen=True, slots=True)
class CreateAlertCommand:
    actor: AlertActor
    settings: AlertSettings


@dataclass(frozen=True, slots=True)
class ReviseAlertCommand:
    """PUT (every setting given) and PATCH (only `changes`): field name → new value, `condition` a dict."""

    actor: AlertActor
    rule_id: str
    changes: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class EnableAlertCommand:
    actor: AlertActor
    rule_id: str


@dataclass(frozen=True, slots=True)
class DisableAlertCommand:
    actor: AlertActor
    rule_id: str


@dataclass(frozen=True, slots=True)
class DeleteAlertCommand:
    actor: AlertActor
    rule_id: str


@dataclass(frozen=True, slots=True)
class ListAlertsQuery:
    actor: AlertActor
    limit: int = 1000


@dataclass(frozen=True, slots=True)
class GetAlertQuery:
    actor: AlertActor
    rule_id: str


@dataclass(frozen=True, slots=True)
class ListAlertTriggersQuery:
    actor: AlertActor
    rule_id: str
    limit: int = 100
