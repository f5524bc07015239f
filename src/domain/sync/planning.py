"""How many bars a sync must fetch: everything when the series is new, otherwise only what is missing
since the last stored bar plus an overlap that refreshes the last (possibly still forming) bar."""

from src.domain.market_data.interval import Interval

OVERLAP_BARS = 2


def bars_to_fetch(interval: Interval, requested: int, last_stored: int | None, now: float) -> int:
    """`requested` for a new series; else the bar periods elapsed since `last_stored` (its own period
    included) plus the overlap, never more than `requested`. Markets with closed sessions have fewer real
    bars than elapsed periods, so this over-fetches a little, which the idempotent upsert absorbs."""
    if requested < 1:
        raise ValueError("requested must be >= 1")
    if last_stored is None:
        return requested
    current = interval.align(int(now))
    if current <= last_stored:
        return min(requested, OVERLAP_BARS)
    if interval.seconds:
        elapsed = (current - last_stored) // interval.seconds
    else:
        elapsed = _months_between(last_stored, current, interval)
    return min(requested, elapsed + OVERLAP_BARS)


def _months_between(first: int, last: int, interval: Interval) -> int:
    count, t = 0, first
    while t < last:
        t = interval.next_open(t)
        count += 1
    return count
