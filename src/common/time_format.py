"""Epoch seconds as the ISO 8601 UTC strings every response uses (`2024-01-01T00:00:00Z`)."""

import time
from datetime import UTC, datetime


def iso_utc(ts: float) -> str:
    if ts == int(ts):  # bar times and most trade times: the cheap path, taken per bar on large responses
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def iso_utc_or_none(ts: float | None) -> str | None:
    return None if ts is None else iso_utc(ts)
