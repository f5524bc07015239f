"""Bars of a coarser interval computed from stored bars of a finer one, cut by the symbol's session calendar.

Rules (each has a test; `tests/unit/domain/test_resample.py` holds them against pandas):

* **What can be built from what.** A target bar must be a union of whole source bars. Intraday from
  intraday when the target's length is a multiple of the source's (both are anchored at each session's
  open, so `45m` comes from `15m` or `3m`, never from `30m`); `1d`, `1w` and `1M` from any intraday
  interval (an intraday bar never spans two trading days); `1w` and `1M` from `1d`; nothing from `1w`
  (weeks straddle months) or `1M`. An interval is also "built" from itself, unchanged.
* **Which target bar a source bar joins.** The calendar's bar of the target interval that contains the
  source bar's open time; a source bar opening outside every session is dropped.
* **Values.** open = the first source bar's open, high = the highest high, low = the lowest low,
  close = the last close, volume = the sum; the bar's time is the calendar's open of the target bar
  (the session open for intraday, the period's first session open for `1d`/`1w`/`1M`).
* **Partial.** A built bar is partial when any of its source bars is partial. Missing source bars (no
  trades in a minute) do not make it partial: sources omit those too.
"""

import numpy as np

from src.domain.errors import InvalidInterval
from src.domain.market_data.calendar import SessionCalendar
from src.domain.market_data.columns import BarColumns, Times
from src.domain.market_data.interval import Interval
from src.domain.market_data.series import SeriesKey

_PERIODS = (Interval.D1, Interval.W1, Interval.MN1)


def can_resample(source: Interval, target: Interval) -> bool:
    """Whether bars of `target` are unions of whole bars of `source` (see the rules above)."""
    if source is target:
        return True
    if source.is_intraday:
        return target in _PERIODS or (target.is_intraday and target.seconds % source.seconds == 0)
    return source is Interval.D1 and target in (Interval.W1, Interval.MN1)


def finer_sources(target: Interval) -> list[Interval]:
    """The intervals `target` can be built from, coarsest first (the cheapest to read)."""
    return [source for source in reversed(Interval) if source is not target and can_resample(source, target)]


def resample(bars: BarColumns, target: Interval, calendar: SessionCalendar) -> BarColumns:
    """`bars` (sorted, unique by time) as bars of `target`; the series key names `target`."""
    source = bars.key.interval
    if not can_resample(source, target):
        raise InvalidInterval(f"{target.code} bars cannot be built from {source.code} bars", field="interval")
    key = SeriesKey(bars.key.symbol, target, bars.key.source)
    if source is target or not len(bars):
        return bars if bars.key == key else bars.renamed(key)
    member, opens = _target_bars(bars.time, target, calendar)
    kept = bars.map(lambda column: column[member >= 0])
    member = member[member >= 0]
    if not member.size:
        return BarColumns.empty(key)
    return _aggregate(key, kept, member, opens)


def _target_bars(times: Times, target: Interval, calendar: SessionCalendar) -> tuple[Times, Times]:
    """For each source time, the index of the target bar holding it (-1 outside sessions), and the
    target bars' open times."""
    spans = calendar.bar_spans(target, int(times[0]), int(times[-1]))
    index = np.searchsorted(spans.opens, times, side="right") - 1
    inside = (index >= 0) & (times < spans.closes[np.maximum(index, 0)]) if spans.opens.size else index >= 0
    return np.where(inside, index, -1).astype(np.int64), spans.opens


def _aggregate(key: SeriesKey, bars: BarColumns, member: Times, opens: Times) -> BarColumns:
    starts = np.flatnonzero(np.diff(member, prepend=member[0] - 1))
    ends = np.append(starts[1:], member.size) - 1
    return BarColumns(
        key,
        opens[member[starts]],
        bars.open[starts],
        np.maximum.reduceat(bars.high, starts),
        np.minimum.reduceat(bars.low, starts),
        bars.close[ends],
        np.add.reduceat(bars.volume, starts),
        np.logical_or.reduceat(bars.partial, starts),
    )
