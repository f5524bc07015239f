"""How far a feed's trade times run behind the wall clock, observed from its ticks.

Rule: the observed lag is the smallest `received_at - trade_time` among the ticks received in the last
`WINDOW_S` seconds, once at least two ticks arrived in that window; otherwise there is no observation. The
smallest, so that a burst of late ticks or an old trade re-sent in a snapshot does not raise it; two ticks,
so that a lone snapshot of a trade minutes old (an illiquid symbol) is not taken for a lagging feed.
"""

from collections import deque

WINDOW_S = 120.0
_BUCKET_S = 10.0


class FeedLag:
    """Per-bucket minima of the lag over the window: O(1) per tick."""

    __slots__ = ("_buckets",)

    def __init__(self) -> None:
        self._buckets: deque[list[float]] = deque()  # [bucket index, minimum lag, ticks]

    def observe(self, trade_time: float, received_at: float) -> None:
        lag = max(0.0, received_at - trade_time)
        bucket = received_at // _BUCKET_S
        buckets = self._buckets
        if buckets and buckets[-1][0] == bucket:
            last = buckets[-1]
            last[1] = min(last[1], lag)
            last[2] += 1
        else:
            buckets.append([bucket, lag, 1])
            if len(buckets) > WINDOW_S / _BUCKET_S + 1:
                buckets.popleft()

    def lag(self, now: float) -> float | None:
        """The observed lag at `now`, or None without enough recent ticks."""
        if not self._buckets:
            return None
        oldest = (now - WINDOW_S) // _BUCKET_S
        recent = [b for b in self._buckets if b[0] >= oldest]
        if sum(b[2] for b in recent) < 2:
            return None
        return min(b[1] for b in recent)
