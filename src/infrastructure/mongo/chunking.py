"""Which calendar period (chunk) holds a bar, per interval, and the pure merge of bars into a chunk.

Chunk periods hold roughly 1,000-10,000 bars each, so a 5,000-bar read touches a handful of documents:

    1m                 1 UTC day                 1,440 bars
    3m, 5m             1 week (Monday 00:00)     3,360 / 2,016
    15m, 30m, 45m      1 calendar month          ~2,976 / ~1,488 / ~992
    1h, 2h, 3h, 4h     1 calendar year           ~8,784 / 4,392 / 2,928 / 2,196
    1d                 1 decade (1970, 1980, ..) ~3,653
    1w, 1M             1 century (1900, 2000, ..) ~5,218 / 1,200

Columns are packed little-endian: `array('q')` for times, `array('d')` for prices and volume, `array('b')`
for the partial flags (`p`, 1 = the bar does not cover its whole period; chunks written before the flag
existed have no `p` and hold complete bars).
"""

import sys
from array import array
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from src.domain.market_data import Interval, utc_calendar

Row = tuple[float, float, float, float, float, int]  # open, high, low, close, volume, partial
PRICE_COLUMNS = ("o", "h", "l", "c", "v", "p")
_TYPECODE = {"o": "d", "h": "d", "l": "d", "c": "d", "v": "d", "p": "b"}


class Period(Enum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"
    DECADE = "decade"
    CENTURY = "century"


CHUNK_PERIOD: dict[Interval, Period] = {
    Interval.M1: Period.DAY,
    Interval.M3: Period.WEEK,
    Interval.M5: Period.WEEK,
    Interval.M15: Period.MONTH,
    Interval.M30: Period.MONTH,
    Interval.M45: Period.MONTH,
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
    period = CHUNK_PERIOD[interval]
    if period is Period.DAY:
        return utc_calendar.day_start(ts)
    if period is Period.WEEK:
        return utc_calendar.week_start(ts)
    if period is Period.MONTH:
        return utc_calendar.month_start(ts)
    return utc_calendar.year_start(ts, _YEARS[period])


def chunk_end(interval: Interval, start: int) -> int:
    """Start of the chunk after the one starting at `start` (exclusive end)."""
    period = CHUNK_PERIOD[interval]
    if period is Period.DAY:
        return start + utc_calendar.DAY
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


@dataclass(slots=True)
class ChunkColumns:
    """The bars of one chunk, sorted by time, unique by time, column by column."""

    t: "array[int]"
    o: "array[float]"
    h: "array[float]"
    l: "array[float]"  # noqa: E741 - the column is called "l" (low) throughout
    c: "array[float]"
    v: "array[float]"
    p: "array[int]"

    @classmethod
    def from_rows(cls, rows: Mapping[int, Row]) -> "ChunkColumns":
        times = sorted(rows)
        values = [rows[t] for t in times]
        columns = zip(PRICE_COLUMNS, _transpose(values), strict=True)
        return cls(array("q", times), *(array(_TYPECODE[name], column) for name, column in columns))  # type: ignore[arg-type]

    def __len__(self) -> int:
        return len(self.t)

    def row(self, i: int) -> Row:
        return (self.o[i], self.h[i], self.l[i], self.c[i], self.v[i], self.p[i])

    def to_rows(self) -> dict[int, Row]:
        return dict(zip(self.t, zip(self.o, self.h, self.l, self.c, self.v, self.p, strict=True), strict=True))

    def encode(self) -> dict[str, bytes]:
        return {"t": _pack(self.t), **{name: _pack(getattr(self, name)) for name in PRICE_COLUMNS}}

    @classmethod
    def decode(cls, doc: Mapping[str, bytes]) -> "ChunkColumns":
        times = _unpack("q", doc["t"])
        o, h, lo, c, v = (_unpack("d", doc[name]) for name in PRICE_COLUMNS[:-1])
        partial = _unpack("b", doc["p"]) if "p" in doc else array("b", bytes(len(times)))
        return cls(times, o, h, lo, c, v, partial)


def _transpose(values: list[Row]) -> list[list[float]]:
    if not values:
        return [[] for _ in PRICE_COLUMNS]
    return [list(col) for col in zip(*values, strict=True)]


def _pack(column: "array[Any]") -> bytes:
    if sys.byteorder == "big":  # pragma: no cover - the wire format is little-endian
        column = array(column.typecode, column)
        column.byteswap()
    return column.tobytes()


def _unpack(typecode: str, data: bytes) -> "array[Any]":
    column: array[Any] = array(typecode)
    column.frombytes(data)
    if sys.byteorder == "big":  # pragma: no cover
        column.byteswap()
    return column


def merge_chunk(existing: ChunkColumns | None, incoming: Mapping[int, Row]) -> tuple[ChunkColumns, int]:
    """Merge `incoming` bars into a chunk; an incoming bar replaces a stored one of equal time.

    Returns the merged chunk and how many incoming bars were new or changed a stored bar.
    """
    if existing is None or not len(existing):
        return ChunkColumns.from_rows(incoming), len(incoming)
    if incoming and min(incoming) > existing.t[-1]:  # the common case: appending newer bars
        tail = ChunkColumns.from_rows(incoming)
        appended = ChunkColumns(*(getattr(existing, n) + getattr(tail, n) for n in ("t", *PRICE_COLUMNS)))
        return appended, len(incoming)
    rows = existing.to_rows()
    changed = 0
    for t, row in incoming.items():
        if rows.get(t) != row:
            rows[t] = row
            changed += 1
    if not changed:
        return existing, 0
    return ChunkColumns.from_rows(rows), changed


def decode_times(data: bytes) -> "array[int]":
    return _unpack("q", data)
