"""Which calendar period (chunk) holds a bar, per interval; chunk payloads as numpy columns; the merge.

Chunk periods hold roughly 3,000-15,000 bars each (schema version 3), so a 5,000-bar read touches one to
three documents and a million-bar read about a hundred:

    1m                         1 week (Monday 00:00)      10,080 bars
    3m, 5m, 15m                1 calendar month           ~14,880 / ~8,928 / ~2,976
    30m, 45m, 1h, 2h, 3h, 4h   1 calendar year            ~17,568 / ~11,712 / ~8,784 / 4,392 / 2,928 / 2,196
    1d                         1 decade (1970, 1980, ..)  ~3,653
    1w, 1M                     1 century (1900, 2000, ..) ~5,218 / 1,200

Columns are packed little-endian: `o h l c v` float64, `p` int8 partial flags (1 = the bar does not cover its
whole period; chunks written before the flag existed have no `p` and hold complete bars), and the times as
`dt`, the zlib-compressed int64 differences between consecutive times (the first from 0): bar times are
nearly regular, so the column that was a sixth of a chunk takes a few hundred bytes, and the store moves a
sixth fewer bytes per bar. Chunks of schema version 2 have `t`, the int64 times themselves, still read.
Decoding is `numpy.frombuffer` over the stored bytes: no per-bar Python object and no copy (but for `dt`).
"""

import zlib
from collections.abc import Mapping
from enum import Enum

import numpy as np

from src.domain.market_data import BarColumns, Interval, SeriesKey, utc_calendar
from src.domain.market_data.columns import Times

_DTYPES = {"o": "<f8", "h": "<f8", "l": "<f8", "c": "<f8", "v": "<f8", "p": "i1"}
_FIELDS = dict(zip(_DTYPES, ("open", "high", "low", "close", "volume", "partial"), strict=True))
TIME_FIELDS = {"dt": 1, "t": 1}  # a projection reading only the times


class Period(Enum):
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"
    DECADE = "decade"
    CENTURY = "century"


CHUNK_PERIOD: dict[Interval, Period] = {
    Interval.M1: Period.WEEK,
    Interval.M3: Period.MONTH,
    Interval.M5: Period.MONTH,
    Interval.M15: Period.MONTH,
    Interval.M30: Period.YEAR,
    Interval.M45: Period.YEAR,
    Interval.H1: Period.YEAR,
    Interval.H2: Period.YEAR,
    Interval.H3: Period.YEAR,
    Interval.H4: Period.YEAR,
    Interval.D1: Period.DECADE,
    Interval.W1: Period.CENTURY,
    Interval.MN1: Period.CENTURY,
}

_YEARS = {Period.YEAR: 1, Period.DECADE: 10, Period.CENTURY: 100}


def chunk_start(interval: Interval, ts: int) -> int:
    """Start (epoch seconds) of the chunk period that contains `ts`."""
    return int(chunk_starts(interval, np.array([ts], dtype=np.int64))[0])


def chunk_starts(interval: Interval, times: Times) -> Times:
    """`chunk_start` of every time at once."""
    period = CHUNK_PERIOD[interval]
    if period is Period.WEEK:
        return utc_calendar.week_starts(times)
    if period is Period.MONTH:
        return utc_calendar.month_starts(times)
    return utc_calendar.year_starts(times, _YEARS[period])


def chunk_end(interval: Interval, start: int) -> int:
    """Start of the chunk after the one starting at `start` (exclusive end)."""
    period = CHUNK_PERIOD[interval]
    if period is Period.WEEK:
        return start + utc_calendar.WEEK
    if period is Period.MONTH:
        return utc_calendar.add_months(start, 1)
    return utc_calendar.add_years(start, _YEARS[period])


def nominal_bars(interval: Interval) -> int:
    """Roughly how many bars a full chunk of this interval holds (used to size newest-first reads)."""
    if not interval.seconds:
        return 1_200
    start = chunk_start(interval, 946_684_800)  # 2000-01-01
    return max(1, (chunk_end(interval, start) - start) // interval.seconds)


def encode(columns: BarColumns) -> dict[str, bytes]:
    steps = np.diff(columns.time, prepend=0).astype("<i8", copy=False)
    packed = {name: getattr(columns, field).astype(_DTYPES[name], copy=False).tobytes()
              for name, field in _FIELDS.items()}
    return {"dt": zlib.compress(steps.tobytes(), 1), **packed}


def decode(key: SeriesKey, doc: Mapping[str, bytes]) -> BarColumns:
    """A chunk document's columns, viewing the stored bytes (read-only arrays)."""
    times = decode_times(doc)
    o, h, lo, c, v = (np.frombuffer(doc[name], _DTYPES[name]).astype(np.float64, copy=False) for name in "ohlcv")
    flags = np.frombuffer(doc["p"], np.bool_) if "p" in doc else np.zeros(times.size, np.bool_)
    return BarColumns(key, times, o, h, lo, c, v, flags)


def decode_times(doc: Mapping[str, bytes]) -> Times:
    if "dt" in doc:
        return np.cumsum(np.frombuffer(zlib.decompress(doc["dt"]), "<i8"), dtype=np.int64)
    return np.frombuffer(doc["t"], "<i8").astype(np.int64, copy=False)


def merge_chunk(existing: BarColumns | None, incoming: BarColumns) -> tuple[BarColumns, int]:
    """Merge `incoming` bars (sorted, unique) into a chunk; an incoming bar replaces a stored one of equal
    time. Returns the merged chunk and how many incoming bars were new or changed a stored bar."""
    if existing is None or not len(existing):
        return incoming, len(incoming)
    if not len(incoming):
        return existing, 0
    if incoming.time[0] > existing.time[-1]:  # the common case: appending newer bars
        return BarColumns.concat(existing.key, [existing, incoming]), len(incoming)
    at = np.minimum(np.searchsorted(existing.time, incoming.time), len(existing) - 1)
    stored = existing.time[at] == incoming.time
    same = stored & _equal_rows(existing.map(lambda column: column[at]), incoming)
    changed = int(incoming.time.size - np.count_nonzero(same))
    if not changed:
        return existing, 0
    kept = np.ones(len(existing), np.bool_)
    kept[at[stored]] = False
    both = BarColumns.concat(existing.key, [existing.map(lambda column: column[kept]), incoming])
    return both.map(lambda column: column[np.argsort(both.time, kind="stable")]), changed


def _equal_rows(a: BarColumns, b: BarColumns) -> np.ndarray:
    equal = np.ones(len(a), np.bool_)
    for name in ("open", "high", "low", "close", "volume", "partial"):
        equal &= getattr(a, name) == getattr(b, name)
    return equal
