"""The encoders against straightforward references: JSON rows byte for byte equal to orjson over one dict
per bar in the public bar shape, CSV parsed back equal, every format equal however the bars are cut into
pieces."""

import csv
import io

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from src.common.bar_shape import bar_fields, series_fields
from src.domain.market_data import BarColumns, Interval, OHLCVBar, SeriesKey, Symbol
from src.features.market_data.messages import BarsFormat
from src.features.market_data.serialization import encode_all, encoder, pieces_of

KEY = SeriesKey(Symbol("BINANCE", "BTCUSDT"), Interval.M1, "tradingview")
prices = st.floats(min_value=1e-9, max_value=1e12, allow_nan=False, allow_infinity=False)
rows = st.lists(st.tuples(st.integers(0, 60_000_000), prices, st.floats(0, 10, allow_nan=False),
                          st.floats(0, 1e9, allow_nan=False), st.booleans()), max_size=60, unique_by=lambda r: r[0])


def bars_of(given_rows) -> list[OHLCVBar]:
    return [OHLCVBar(Interval.M1, m * 60, p, p + d, p, p + d / 2, v, flag) for m, p, d, v, flag in sorted(given_rows)]


@settings(max_examples=150, deadline=None)
@given(rows, st.integers(1, 7), st.sampled_from(list(BarsFormat)), st.booleans())
def test_every_format_is_the_same_however_the_bars_are_cut(given_rows, size, form, descending):
    columns = BarColumns.from_bars(KEY, bars_of(given_rows))
    columns = columns.reversed() if descending else columns
    codec = encoder(form, KEY)
    parts = [codec.head()]
    pieces = [columns] if codec.whole else list(pieces_of(columns, size))
    parts += [codec.piece(piece) for piece in pieces]
    parts.append(codec.tail(len(columns), None))
    whole = encode_all(form, columns)
    assert _read(form, b"".join(parts)) == _read(form, whole)


def _read(form: BarsFormat, data: bytes) -> object:
    """Arrow and Parquet bodies cut differently hold different batches: compare the tables read back."""
    if form is BarsFormat.ARROW:
        return pa.ipc.open_stream(data).read_all().to_pylist()
    if form is BarsFormat.PARQUET:
        return pq.read_table(io.BytesIO(data)).to_pylist()
    return data


@settings(max_examples=150, deadline=None)
@given(rows)
def test_json_rows_are_orjson_of_the_public_bar_shape_byte_for_byte(given_rows):
    bars = bars_of(given_rows)
    expected = orjson.dumps({**series_fields(KEY), "bars": [bar_fields(b) for b in bars], "count": len(bars),
                             "next": None})
    assert encode_all(BarsFormat.JSON, BarColumns.from_bars(KEY, bars)) == expected


@settings(max_examples=150, deadline=None)
@given(rows)
def test_csv_reads_back_every_value(given_rows):
    bars = bars_of(given_rows)
    table = list(csv.DictReader(io.StringIO(encode_all(BarsFormat.CSV, BarColumns.from_bars(KEY, bars)).decode())))
    assert [(r["time"], float(r["open"]), float(r["high"]), float(r["low"]), float(r["close"]), float(r["volume"]),
             r["partial"]) for r in table] == [
        (bar_fields(b)["time"], b.open, b.high, b.low, b.close, b.volume, "true" if b.partial else "false")
        for b in bars]


def test_compact_columns_hold_epoch_seconds_and_values():
    bars = bars_of([(1, 2.5, 1.0, 3.0, True), (2, 3.5, 0.0, 4.0, False)])
    body = orjson.loads(encode_all(BarsFormat.JSON_COLUMNS, BarColumns.from_bars(KEY, bars), "/next"))
    assert body["columns"] == {"timestamp": [60, 120], "open": [2.5, 3.5], "high": [3.5, 3.5], "low": [2.5, 3.5],
                               "close": [3.0, 3.5], "volume": [3.0, 4.0], "partial": [True, False]}
    assert (body["count"], body["next"], body["layout"]) == (2, "/next", "columns")
    assert np.array_equal(body["columns"]["timestamp"], [b.time for b in bars])
