"""The one public shape of an alert trigger: the WebSocket `alert` frame, the webhook's `alert.triggered`
data and each entry of a rule's trigger history all carry these fields. The frame travels to the owner's
sockets in every process on the `ALERT_FRAMES` broadcast topic, as `{"owner": ..., "frame": <text>}`."""

from typing import Any

import orjson

from src.common.time_format import iso_utc, iso_utc_or_none
from src.domain.alerts import AlertTriggeredEvent


def trigger_fields(event: AlertTriggeredEvent) -> dict[str, Any]:
    return {
        "rule_id": event.rule_id,
        "owner": event.owner,
        "source": event.source,
        "symbol": event.symbol.ticker,
        "interval": None if event.interval is None else event.interval.code,
        "condition": dict(event.condition),
        "values": dict(event.values),
        "triggered_at": iso_utc(event.triggered_at),
        "triggered_at_timestamp": event.triggered_at,
        "evaluated_at": iso_utc(event.occurred_at),
        "late": event.late,
        "bar_time": iso_utc_or_none(event.bar_time),
        "trigger_count": event.trigger_count,
        "channels": list(event.channels),
        "note": event.note,
    }


ALERT_FRAMES = "alert-frames"


def alert_frame_message(event: AlertTriggeredEvent) -> bytes:
    frame = orjson.dumps({"type": "alert", **trigger_fields(event)}).decode()
    return orjson.dumps({"owner": event.owner, "frame": frame})


def read_alert_frame(message: bytes) -> tuple[str, str]:
    """(owner, frame text) of an `ALERT_FRAMES` message."""
    loaded = orjson.loads(message)
    return loaded["owner"], loaded["frame"]
