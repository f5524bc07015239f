"""Builders shared by the alert tests."""

from typing import Any

from src.domain.alerts import AlertRule, parse_condition
from src.domain.market_data import Interval, OHLCVBar, Symbol

AAPL = Symbol("NASDAQ", "AAPL")
T0 = 1_700_000_040  # a minute boundary (epoch seconds)


def rule(condition: dict[str, Any], **fields: Any) -> AlertRule:
    fields.setdefault("id", "r1")
    fields.setdefault("owner", "alice")
    fields.setdefault("source", "tradingview")
    fields.setdefault("symbol", AAPL)
    return AlertRule(condition=parse_condition(condition), **fields)


def feed(alert: AlertRule, *ticks: tuple[float, float]) -> tuple[AlertRule, list[Any]]:
    """Feed (price, time) ticks; return the last rule and every event raised."""
    events: list[Any] = []
    for price, at in ticks:
        alert, raised = alert.on_tick(price, at)
        events.extend(raised)
    return alert, events


def minute_bar(time: int, close: float, *, open: float | None = None, volume: float = 100.0) -> OHLCVBar:
    o = close if open is None else open
    return OHLCVBar(Interval.M1, time, o, max(o, close), min(o, close), close, volume)
