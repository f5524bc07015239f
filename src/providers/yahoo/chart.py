"""The v8 chart answer (`chart.result[0]`: `meta`, `timestamp`, `indicators.quote[0]`) as bars.

Rules:
- A row whose open, high, low or close is null (no trade in that period) is no bar; a null volume is 0.
- Prices are split-adjusted and not dividend-adjusted: Yahoo's `open/high/low/close/volume` as served
  (`adjclose`, dividend-adjusted, is not used: it rewrites every older bar at each dividend, which an
  incrementally synced store cannot follow).
- A row whose high or low does not contain its open and close (a known Yahoo data fault) is widened to them.
- Bars are stamped by the one rule every series follows: the open of the bar of the symbol's trading
  calendar (`SessionCalendar`, given by the caller; 24x7 UTC when none is, which is the UTC grid).
- Intraday rows are anchored at each session's open (`meta.tradingPeriods`): a row belongs to the calendar bar
  holding its time (`bar_of`), so native intervals keep Yahoo's stamps and composites (45m, 2h, 3h, 4h) are
  the rows of each calendar bar from its session's open. A row the calendar does not trade keeps its session
  anchor (the sync then rejects it, naming why).
- Daily and longer rows are stamped at local midnight or at the session open; a row belongs to its trading day
  (the day of the session holding its time, else its local date) and is stamped at the open of the calendar's
  daily, weekly or monthly bar holding that day (`period_open`: a week's first session, not its Monday). Two
  daily rows of one day (Yahoo's live row beside the day's) keep the later; two weekly or monthly rows of one
  period are merged, as yfinance does. A row on a day the calendar does not trade keeps its local midnight.
"""

import bisect
import calendar
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from src.common.errors import UpstreamRejected
from src.domain.errors import DomainError
from src.domain.market_data import Interval, OHLCVBar, SessionCalendar
from src.domain.market_data.composite import compose
from src.providers.yahoo.intervals import ChartPlan


@dataclass(frozen=True, slots=True)
class Row:
    time: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    partial: bool = False


@dataclass(frozen=True, slots=True)
class Chart:
    meta: dict[str, Any]
    rows: tuple[Row, ...]
    sessions: tuple[tuple[int, int], ...]  # regular [start, end) of each session the answer covers

    @property
    def zone(self) -> ZoneInfo:
        name = str(self.meta.get("exchangeTimezoneName") or "UTC")
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")


def parse_chart(body: Any, what: str) -> Chart:
    try:
        result = body["chart"]["result"][0]
        meta = result["meta"]
        quote = result["indicators"]["quote"][0]
    except (KeyError, IndexError, TypeError) as error:
        raise UpstreamRejected(f"Yahoo's chart answer for {what} has no result") from error
    times = result.get("timestamp") or []
    columns = [quote.get(name) or [None] * len(times) for name in ("open", "high", "low", "close", "volume")]
    rows = tuple(row for row in map(_row, times, *columns) if row is not None)
    return Chart(meta, rows, _sessions(meta.get("tradingPeriods")))


def _row(t: Any, o: Any, h: Any, lo: Any, c: Any, v: Any) -> Row | None:
    if o is None or h is None or lo is None or c is None:
        return None
    o, h, lo, c = float(o), float(h), float(lo), float(c)
    return Row(int(t), o, max(o, h, lo, c), min(o, h, lo, c), c, float(v or 0))


def _sessions(periods: Any) -> tuple[tuple[int, int], ...]:
    """`tradingPeriods`: a list of one-element lists, or `{"pre", "regular", "post"}` of such lists."""
    if isinstance(periods, dict):
        periods = periods.get("regular")
    found: list[tuple[int, int]] = []
    for day in periods if isinstance(periods, list) else []:
        for period in day if isinstance(day, list) else [day]:
            if isinstance(period, dict) and "start" in period and "end" in period:
                found.append((int(period["start"]), int(period["end"])))
    return tuple(sorted(set(found)))


def session_anchor(sessions: tuple[tuple[int, int], ...], length: int) -> Callable[[int], int]:
    """The open of the `length`-second period, counted from its session's open, that a row at `t` is in."""
    starts = [start for start, _ in sessions]

    def anchor(t: int) -> int:
        index = bisect.bisect_right(starts, t) - 1
        if index < 0 or t >= sessions[index][1]:
            return t
        start = sessions[index][0]
        return start + (t - start) // length * length

    return anchor


def to_bars(plan: ChartPlan, rows: Iterable[Row], sessions: tuple[tuple[int, int], ...], zone: ZoneInfo,
            trading: SessionCalendar) -> list[OHLCVBar]:
    try:
        if plan.intraday:
            return compose(rows, plan.native, plan.interval, _intraday_open(plan, sessions, trading))
        return _periodic(plan, rows, zone, trading)
    except DomainError as error:
        raise UpstreamRejected(f"Yahoo sent {plan.code} rows that make no bar: {error}") from error


def _intraday_open(plan: ChartPlan, sessions: tuple[tuple[int, int], ...],
                   trading: SessionCalendar) -> Callable[[int], int]:
    anchor = session_anchor(sessions, plan.interval.seconds)

    def opening(t: int) -> int:
        found = trading.bar_of(t, plan.interval)
        return anchor(t) if found is None else found

    return opening


def _periodic(plan: ChartPlan, rows: Iterable[Row], zone: ZoneInfo, trading: SessionCalendar) -> list[OHLCVBar]:
    def opening(t: int) -> int:
        local = datetime.fromtimestamp(t, zone).date()
        day = trading.trading_day_of(t) or local
        found = trading.period_open(day, plan.interval)
        return calendar.timegm((local.year, local.month, local.day, 0, 0, 0)) if found is None else found

    ordered = sorted(rows, key=lambda row: row.time)
    if plan.interval is Interval.D1:
        ordered = list({opening(row.time): row for row in ordered}.values())
    return compose(ordered, Interval.D1, plan.interval, opening)
