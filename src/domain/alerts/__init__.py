"""Alerts: rules on live prices, closed bars and indicators; pure, with time passed in."""

from src.domain.alerts.book import AlertBook
from src.domain.alerts.conditions import CONDITION_TYPES, Condition, EvaluatedOn, Side, parse_condition
from src.domain.alerts.events import AlertExpiredEvent, AlertTriggeredEvent
from src.domain.alerts.memory import AlertMemory
from src.domain.alerts.moment import Moment
from src.domain.alerts.rule import CHANNELS, AlertChange, AlertRule
from src.domain.alerts.status import TRANSITIONS, AlertStatus, check_transition

__all__ = [
    "CHANNELS", "CONDITION_TYPES", "TRANSITIONS", "AlertBook", "AlertChange", "AlertExpiredEvent", "AlertMemory",
    "AlertRule", "AlertStatus", "AlertTriggeredEvent", "Condition", "EvaluatedOn", "Moment", "Side",
    "check_transition", "parse_condition",
]
