"""Which calendar period (chunk) holds a bar, per interval; chunk payloads as numpy columns; the merge.

Chunk periods hold roughly 3,000-45,000 bars each (schema version 3), so a 5,000-bar read touches one or
two documents and a million 1m bars about two dozen (README "Storage layout" has the measurements):

    1m, 3m, 5m, 15m            1 calendar month           ~44,640 / ~14,880 / ~8,928 / ~2,976 bars
    30m, 45m, 1h, 2h, 3h, 4h   1 calendar year            ~17,568 / ~11,712 / ~8,784 / 4,392 / 2,928 / 2,196
    1d                         1 decade (1970, 1980, ..)  ~3,653
    1w, 1M                     1 century (1900, 2000, ..) ~5,218 / 1,200

Columns (schema version 3, `column_codec`): `dt` the times, `o h l c v` the prices and volume, `p` the
partial flags (True: the bar does not cover its whole period), each packed losslessly and small; `n` is
the number of bars. Chunks of schema version 2 (recognised by `t` instead of `dt`) hold plain little-endian
columns, `t` int64 and `o h l c v` float64, and `p` int8 only once flags existed (without it, complete bars);
they are still read. Decoding works on whole columns in numpy: no per-bar Python object.
"""

from collections.abc import Mapping
from enum import Enum
from typing import Any

import numpy as np

from src.domain.market_data import BarColumns, Interval, SeriesKey, utc_calendar
from src.domain.market_data.columns import Times
from src.infrastructure.mongo import column_codec

_VALUES = {"o": "open", "h": "high", "l": "low", "c": "close", "v": "volume"}
TIME_FIELDS = {"dt": 1, "t": 1, "n": 1}  # a projection reading only the times


class Period(Enum):
    MONTH = "month"
    YEAR = "year"
    DECADE = "decade"
    CENTURY = "century"


CHUNK_PERIOD: dict[Interval, Period] = {
    Interval.M1: Period.MONTH,
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
    if period is Period.MONTH:
        return utc_calendar.month_starts(times)
    return utc_calendar.year_starts(times, _YEARS[period])


def chunk_end(interval: Interval, start: int) -> int:
    """Start of the chunk after the one starting at `start` (exclusive end)."""
    period = CHUNK_PERIOD[interval]
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
    values = {name: column_codec.pack_floats(getattr(columns, field)) for name, field in _VALUES.items()}
    return {"dt": column_codec.pack_ints(columns.time), **values, "p": column_codec.pack_flags(columns.partial)}


def decode(key: SeriesKey, doc: Mapping[str, Any]) -> BarColumns:
    """A chunk document's columns (read-only arrays)."""
    if "dt" not in doc:
        return _decode_version_2(key, doc)
    count = int(doc["n"])
    o, h, lo, c, v = (column_codec.unpack_floats(doc[name], count) for name in _VALUES)
    return BarColumns(key, decode_times(doc), o, h, lo, c, v, column_codec.unpack_flags(doc["p"], count))


def _decode_version_2(key: SeriesKey, doc: Mapping[str, Any]) -> BarColumns:
    times = decode_times(doc)
    o, h, lo, c, v = (np.frombuffer(doc[name], "<f8").astype(np.float64, copy=False) for name in _VALUES)
    flags = np.frombuffer(doc["p"], np.bool_) if "p" in doc else np.zeros(times.size, np.bool_)
    return BarColumns(key, times, o, h, lo, c, v, flags)


def decode_times(doc: Mapping[str, Any]) -> Times:
    if "dt" in doc:
        return column_codec.unpack_ints(doc["dt"], int(doc["n"]))
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
