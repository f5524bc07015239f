"""PocketQuant's 13 intervals in Yahoo's chart vocabulary, with Yahoo's limits per interval.

Yahoo serves 1m, 5m, 15m, 30m, 60m, 1d, 1wk and 1mo here; 3m is built from 1m, 45m from 15m, and 2h, 3h, 4h
from 60m (composite bars anchored at each session's open, as Yahoo anchors its own intraday bars). Limits
(Yahoo answers 422 beyond them): 1m only for the last 30 days and 7 days per request (8 on some hosts); other
intervals under a day for the last 60 days; 60m for the last 730 days. Daily and longer have no limit.
"""

from dataclasses import dataclass

from src.domain.market_data import Interval

DAY = 86_400


@dataclass(frozen=True, slots=True)
class ChartPlan:
    interval: Interval  # the interval asked for
    native: Interval  # the interval Yahoo's rows have
    code: str  # Yahoo's name for it
    lookback_days: int | None = None  # intraday: how far back Yahoo serves it
    span_days: int | None = None  # intraday: the most one request may cover

    @property
    def intraday(self) -> bool:
        return self.native.is_intraday

    def earliest(self, now: float, margin_s: int = 3_600) -> int | None:
        """The oldest `period1` Yahoo accepts now (a margin for clocks that disagree), None when unbounded."""
        return None if self.lookback_days is None else int(now) - self.lookback_days * DAY + margin_s


_M1 = ("1m", 30, 7)
_SHORT = 60, 60
_HOUR = ("60m", 730, 180)
_PLANS = {
    Interval.M1: (Interval.M1, *_M1), Interval.M3: (Interval.M1, *_M1),
    Interval.M5: (Interval.M5, "5m", *_SHORT), Interval.M15: (Interval.M15, "15m", *_SHORT),
    Interval.M30: (Interval.M30, "30m", *_SHORT), Interval.M45: (Interval.M15, "15m", *_SHORT),
    Interval.H1: (Interval.H1, *_HOUR), Interval.H2: (Interval.H1, *_HOUR), Interval.H3: (Interval.H1, *_HOUR),
    Interval.H4: (Interval.H1, *_HOUR),
    Interval.D1: (Interval.D1, "1d", None, None), Interval.W1: (Interval.W1, "1wk", None, None),
    Interval.MN1: (Interval.MN1, "1mo", None, None),
}


def plan(interval: Interval) -> ChartPlan:
    native, code, lookback, span = _PLANS[interval]
    return ChartPlan(interval, native, code, lookback, span)
