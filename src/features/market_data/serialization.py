"""Stored bars to response bytes, straight from the numpy columns, a piece at a time.

Every format is an `Encoder`: `head()`, then `piece(columns)` for each piece of bars in response order,
then `tail(count, next_url)`. Joined they are the whole body; sent as they come they stream it with memory
bounded by one piece. No format builds a Python object per bar except the per-bar text tokens of JSON rows
and CSV (numbers are formatted by orjson a column at a time, times by table look-up).

- `json` (rows): `{"source","exchange","symbol","interval","bars":[{time, timestamp, open, high, low, close,
  volume, partial}, ...],"count","next"}`; each row has the shape of `common.bar_shape.bar_fields`.
- `json` with `layout=columns`: `{..series, "columns": {"timestamp":[..], "open":[..], ..., "partial":[..]},
  "count", "next"}`: the compact layout (epoch seconds, no ISO strings). A column is written whole, so
  this encoder takes all the bars as one piece.
- `csv`: `time,open,high,low,close,volume,partial` with ISO times.
- `arrow`: an Arrow IPC stream (`application/vnd.apache.arrow.stream`), one record batch per piece.
- `parquet`: one row group per piece (at least `PARQUET_ROW_GROUP` bars).
Arrow and Parquet carry `time` as `timestamp[s, UTC]`, prices and volume as float64, `partial` as bool, and
the series (source, exchange, symbol, interval) as schema metadata.
"""

import io
import itertools
from collections.abc import Callable, Iterator
from functools import cache
from typing import Protocol

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from src.common.bar_shape import series_fields
from src.domain.market_data import BarColumns, SeriesKey
from src.features.market_data.messages import BarsFormat

PARQUET_ROW_GROUP = 65_536
_NUMPY = orjson.OPT_SERIALIZE_NUMPY


class Encoder(Protocol):
    media_type: str
    extension: str
    whole: bool  # True: needs every bar in one piece
    text: bool  # True: encoded by Python (per-bar tokens); False: by pyarrow

    def head(self) -> bytes: ...

    def piece(self, columns: BarColumns) -> bytes: ...

    def tail(self, count: int, next_url: str | None) -> bytes: ...


def encoder(form: BarsFormat, key: SeriesKey) -> Encoder:
    encoders: dict[BarsFormat, Callable[[SeriesKey], Encoder]] = {
        BarsFormat.JSON: JsonRows, BarsFormat.JSON_COLUMNS: JsonColumns, BarsFormat.CSV: Csv,
        BarsFormat.ARROW: ArrowStream, BarsFormat.PARQUET: Parquet,
    }
    return encoders[form](key)


def encode_all(form: BarsFormat, columns: BarColumns, next_url: str | None = None) -> bytes:
    """The whole body at once (small responses, tests)."""
    codec = encoder(form, columns.key)
    return b"".join((codec.head(), codec.piece(columns), codec.tail(len(columns), next_url)))


# --- text tokens, a column at a time ---------------------------------------------------------------------


def _tokens(column: np.ndarray) -> list[bytes]:
    """Each value as orjson writes it (shortest round-tripping float), without a Python number per value."""
    return orjson.dumps(np.ascontiguousarray(column), option=_NUMPY)[1:-1].split(b",") if column.size else []


@cache
def _clock_times() -> np.ndarray:
    return np.array([b"%02d:%02d:%02dZ" % (s // 3600, s // 60 % 60, s % 60) for s in range(86_400)], dtype=object)


def _iso_parts(times: np.ndarray) -> tuple[list[bytes], list[bytes]]:
    """`2024-01-01T` and `00:00:00Z` per time: the ISO 8601 UTC strings of `common.time_format.iso_utc`."""
    days, index = np.unique(times // 86_400, return_inverse=True)
    dates = np.array([d.encode() + b"T" for d in np.datetime_as_string(days.astype("datetime64[D]")).tolist()],
                     dtype=object)
    return dates[index].tolist(), _clock_times()[times % 86_400].tolist()


def _flags(partial: np.ndarray, false: bytes, true: bytes) -> list[bytes]:
    flags: list[bytes] = np.array([false, true], dtype=object)[partial.view(np.int8)].tolist()
    return flags


def _series_json(key: SeriesKey) -> bytes:
    return orjson.dumps(series_fields(key))[:-1]  # the object left open


def _json_tail(count: int, next_url: str | None) -> bytes:
    return b',"count":%d,"next":%s}' % (count, orjson.dumps(next_url))


# --- formats -------------------------------------------------------------------------------------------


class JsonRows:
    media_type, extension, whole, text = "application/json", "json", False, True

    def __init__(self, key: SeriesKey) -> None:
        self._key = key
        self._first = True

    def head(self) -> bytes:
        return _series_json(self._key) + b',"bars":['

    def piece(self, columns: BarColumns) -> bytes:
        if not len(columns):
            return b""
        dates, clocks = _iso_parts(columns.time)
        t, o, h, lo, c, v = (_tokens(getattr(columns, n)) for n in ("time", "open", "high", "low", "close", "volume"))
        flags = _flags(columns.partial, b',"partial":false}', b',"partial":true}')
        r = itertools.repeat
        rows = zip(  # the repeats are endless: strict=False
                   r(b'{"time":"'), dates, clocks, r(b'","timestamp":'), t, r(b',"open":'), o, r(b',"high":'), h,
                   r(b',"low":'), lo, r(b',"close":'), c, r(b',"volume":'), v, flags, strict=False)
        body = b",".join(map(b"".join, rows))
        lead, self._first = (b"" if self._first else b","), False
        return lead + body

    def tail(self, count: int, next_url: str | None) -> bytes:
        return b"]" + _json_tail(count, next_url)


class JsonColumns:
    media_type, extension, whole, text = "application/json", "json", True, True
    SLICE = 65_536  # values written at once: a column is written whole, but never in one long step

    def __init__(self, key: SeriesKey) -> None:
        self._key = key

    def head(self) -> bytes:
        return _series_json(self._key) + b',"layout":"columns","columns":{'

    def piece(self, columns: BarColumns) -> bytes:
        return b"".join(self.parts(columns))

    def parts(self, columns: BarColumns) -> Iterator[bytes]:
        names = ("timestamp", "open", "high", "low", "close", "volume", "partial")
        values = (columns.time, columns.open, columns.high, columns.low, columns.close, columns.volume, columns.partial)
        for i, (name, column) in enumerate(zip(names, values, strict=True)):
            yield b'%s"%s":[' % (b"," if i else b"", name.encode())
            for j in range(0, column.size, self.SLICE):
                tokens = orjson.dumps(np.ascontiguousarray(column[j:j + self.SLICE]), option=_NUMPY)[1:-1]
                yield (b"," if j else b"") + tokens
            yield b"]"

    def tail(self, count: int, next_url: str | None) -> bytes:
        return b"}" + _json_tail(count, next_url)


class Csv:
    media_type, extension, whole, text = "text/csv", "csv", False, True

    def __init__(self, key: SeriesKey) -> None:
        self._key = key

    def head(self) -> bytes:
        return b"time,open,high,low,close,volume,partial\n"

    def piece(self, columns: BarColumns) -> bytes:
        if not len(columns):
            return b""
        dates, clocks = _iso_parts(columns.time)
        o, h, lo, c, v = (_tokens(getattr(columns, n)) for n in ("open", "high", "low", "close", "volume"))
        r = itertools.repeat
        lines = zip(dates, clocks, r(b","), o, r(b","), h, r(b","), lo, r(b","), c, r(b","), v,
                    _flags(columns.partial, b",false\n", b",true\n"), strict=False)  # repeats are endless
        return b"".join(map(b"".join, lines))

    def tail(self, count: int, next_url: str | None) -> bytes:
        return b""


def arrow_schema(key: SeriesKey) -> pa.Schema:
    fields = [pa.field("time", pa.timestamp("s", tz="UTC"), nullable=False)]
    fields += [pa.field(name, pa.float64(), nullable=False) for name in ("open", "high", "low", "close", "volume")]
    fields.append(pa.field("partial", pa.bool_(), nullable=False))
    return pa.schema(fields, metadata={k: str(v) for k, v in series_fields(key).items()})


def record_batch(schema: pa.Schema, columns: BarColumns) -> pa.RecordBatch:
    """The columns as Arrow arrays over the same memory where the types allow (no copy of the floats)."""
    arrays = [pa.array(columns.time.view("datetime64[s]"), type=schema.field("time").type)]
    arrays += [pa.array(getattr(columns, n)) for n in ("open", "high", "low", "close", "volume", "partial")]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


class _Sink:
    """A file for pyarrow writers whose bytes are taken out after each write."""

    def __init__(self) -> None:
        self.buffer = io.BytesIO()

    def take(self) -> bytes:
        data = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return data


class ArrowStream:
    media_type, extension, whole, text = "application/vnd.apache.arrow.stream", "arrows", False, False

    def __init__(self, key: SeriesKey) -> None:
        self._schema = arrow_schema(key)
        self._sink = _Sink()
        self._writer = pa.ipc.new_stream(self._sink.buffer, self._schema)

    def head(self) -> bytes:
        return self._sink.take()

    def piece(self, columns: BarColumns) -> bytes:
        if len(columns):
            self._writer.write_batch(record_batch(self._schema, columns))
        return self._sink.take()

    def tail(self, count: int, next_url: str | None) -> bytes:
        self._writer.close()
        return self._sink.take()


class Parquet:
    media_type, extension, whole, text = "application/vnd.apache.parquet", "parquet", False, False

    def __init__(self, key: SeriesKey) -> None:
        self._schema = arrow_schema(key)
        self._sink = _Sink()
        self._writer = pq.ParquetWriter(self._sink.buffer, self._schema, compression="snappy", use_dictionary=False)
        self._pending: list[pa.RecordBatch] = []
        self._rows = 0

    def head(self) -> bytes:
        return self._sink.take()

    def piece(self, columns: BarColumns) -> bytes:
        if len(columns):
            self._pending.append(record_batch(self._schema, columns))
            self._rows += len(columns)
        if self._rows >= PARQUET_ROW_GROUP:
            self._flush()
        return self._sink.take()

    def tail(self, count: int, next_url: str | None) -> bytes:
        self._flush()
        self._writer.close()
        return self._sink.take()

    def _flush(self) -> None:
        if self._pending:
            self._writer.write_table(pa.Table.from_batches(self._pending, self._schema), row_group_size=self._rows)
            self._pending, self._rows = [], 0


def pieces_of(columns: BarColumns, size: int) -> Iterator[BarColumns]:
    for i in range(0, len(columns), max(1, size)):
        yield columns.rows(i, i + size)
