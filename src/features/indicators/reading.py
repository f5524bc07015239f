"""Bars of a series read from the store as numpy columns, preceded by the warm-up history a computation
needs, so that the values of the first requested bar equal those of a full-series computation.

The warm-up is read as the newest `count` bars before the first requested bar, `count` being the specs'
warm-up in bars or, for session-anchored ones, enough bars to reach back past the session's first bar
(an intraday session of length L holds at most ceil(L / interval) bars before a bar), whichever is more.
A calendar whose sessions break inside a trading day can hold more (each break may cut a bar short): when
the bars read do not reach back past the session's open, twice as many are read, until they do.

With `exclude_flagged`, the bars open or confirmed quality flags cover are left out of the asked bars and
of the warm-up alike, as if they were never stored (the warm-up still reaches `count` bars: more are read
while flags cut it short).
"""

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from src.common.ports import BarColumns, OHLCVRepository
from src.domain.indicators import Columns, Warmup
from src.domain.indicators.columns import IntArray
from src.domain.market_data import SeriesKey
from src.domain.market_data.calendar import SessionCalendar
from src.domain.quality.series import Span, outside
from src.features.indicators.sessions import calendar_of, session_ids, session_open, utc_offsets

_DTYPES = {"time": np.int64, "open": np.float64, "high": np.float64, "low": np.float64, "close": np.float64,
           "volume": np.float64, "partial": np.int8}
type Arrays = dict[str, npt.NDArray[np.generic]]
CalendarFor = Callable[[SeriesKey], Awaitable[SessionCalendar]]
ExcludedOf = Callable[[SeriesKey], Awaitable[tuple[Span, ...]]]


async def nothing_excluded(key: SeriesKey) -> tuple[Span, ...]:
    return ()


async def always_open(key: SeriesKey) -> SessionCalendar:
    """24x7 UTC: the calendar of a series whose symbol's sessions are not known (the slice gives each
    symbol's own, from `SymbolCalendars`)."""
    return calendar_of(key)


def as_arrays(bars: BarColumns) -> Arrays:
    """The one conversion of a store read to numpy. The store returns Python sequences today; once it
    returns numpy columns, `np.asarray` hands them through without a copy."""
    return {name: np.asarray(getattr(bars, name), dtype=dtype) for name, dtype in _DTYPES.items()}


@dataclass(frozen=True, slots=True)
class Window:
    """Which bars are asked for: start <= time <= end, the newest `limit` of them (None: unbounded), or the
    oldest with `oldest_first` (the rule of `shared.windows.counts_from_start`, as for `GET /ohlcv`)."""

    start: int | None = None
    end: int | None = None
    limit: int | None = None
    exclude_flagged: bool = False
    oldest_first: bool = False


@dataclass(frozen=True)
class History:
    """The asked bars preceded by their warm-up: `first` is the index of the first asked bar."""

    key: SeriesKey
    calendar: SessionCalendar
    arrays: Arrays
    first: int

    def __len__(self) -> int:
        return len(self.arrays["time"]) - self.first

    @cached_property
    def columns(self) -> Columns:
        a, time = self.arrays, self.arrays["time"]
        session_id = session_ids(self.calendar, self.key.interval, time)  # type: ignore[arg-type]
        return Columns(time, a["open"], a["high"], a["low"], a["close"], a["volume"], session_id)  # type: ignore[arg-type]

    @cached_property
    def utc_offset(self) -> IntArray:
        return utc_offsets(self.calendar, self.arrays["time"])  # type: ignore[arg-type]

    def asked(self, name: str) -> npt.NDArray[np.generic]:
        """A bar column (`time`, `open` ... `volume`, `partial`) of the asked bars only."""
        return self.arrays[name][self.first:]


def _unflagged(arrays: Arrays, spans: tuple[Span, ...]) -> Arrays:
    if not spans:
        return arrays
    keep = outside(arrays["time"], spans)  # type: ignore[arg-type]
    return {name: column[keep] for name, column in arrays.items()}


class SeriesReader:
    def __init__(self, bars: OHLCVRepository, calendar_for: CalendarFor = always_open,
                 excluded_of: ExcludedOf = nothing_excluded) -> None:
        self._bars = bars
        self.calendar_for = calendar_for
        self._excluded_of = excluded_of

    async def read(self, key: SeriesKey, window: Window, needed: Warmup) -> History:
        calendar = await self.calendar_for(key)
        spans = await self._excluded_of(key) if window.exclude_flagged else ()
        asked = _unflagged(as_arrays(await self._bars.read(key, start=window.start, end=window.end,
                                                            limit=window.limit, oldest_first=window.oldest_first)),
                           spans)
        if not len(asked["time"]):
            return History(key, calendar, asked, 0)
        earlier = await self._earlier(key, calendar, needed, int(asked["time"][0]), spans)
        if earlier is None:
            return History(key, calendar, asked, 0)
        joined = {name: np.concatenate((earlier[name], asked[name])) for name in asked}
        return History(key, calendar, joined, len(earlier["time"]))

    async def _earlier(
        self, key: SeriesKey, calendar: SessionCalendar, needed: Warmup, first_time: int, spans: tuple[Span, ...]
    ) -> Arrays | None:
        """The warm-up bars before `first_time` (None when none are needed)."""
        wanted, reach = warmup_bars(key, calendar, needed, first_time)
        count = wanted
        while count:
            read = as_arrays(await self._bars.read(key, end=first_time - 1, limit=count))
            earlier = _unflagged(read, spans)
            if len(read["time"]) < count or (len(earlier["time"]) >= wanted and earlier["time"][0] < reach):
                return earlier
            count *= 2
        return None


def warmup_bars(key: SeriesKey, calendar: SessionCalendar, needed: Warmup, first_time: int) -> tuple[int, int]:
    """How many bars before the bar opening at `first_time` to read (see the module rule), and the time the
    oldest of them must be before (the session's open: the bar before the session is read too)."""
    if not needed.to_session_start:
        return needed.bars, first_time + 1  # no session to reach back to
    interval = key.interval
    if not interval.is_intraday:
        return max(needed.bars, 1), first_time  # each bar is its session: only the bar before it (its gap)
    session = int(session_ids(calendar, interval, np.array([first_time], dtype=np.int64))[0])
    opened = session_open(session, first_time)
    since_open = math.ceil((first_time - opened) / interval.seconds)
    return max(needed.bars, since_open + 1), opened  # + the bar before the session (its gap)
