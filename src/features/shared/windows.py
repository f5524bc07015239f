"""Which bars a `limit` counts when a query of stored bars (`GET /ohlcv`, `/indicators`, `/features`) gives a
range: the one rule of every route that takes `start`, `end` and `limit`."""

from datetime import UTC, datetime


def counts_from_start(start: datetime | None, *, after: datetime | None = None,
                      before: datetime | None = None) -> bool:
    """Whether `limit` counts the oldest bars of the range (`start=…&limit=N`: the N bars from `start` on, and
    a page walking forward from an `after` cursor) rather than the newest (no `start`, or a `before` cursor
    walking back)."""
    return after is not None or (before is None and start is not None)


def epoch_seconds(moment: datetime | None) -> int | None:
    """A query time as epoch seconds (a time without a zone is UTC)."""
    if moment is None:
        return None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())
