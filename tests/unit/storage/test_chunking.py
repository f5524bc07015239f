"""Chunk periods, the chunk payload codec and the vectorised chunk merge, against a dict of last writes."""

import calendar

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from src.domain.market_data import BarColumns, Interval, SeriesKey, Symbol
from src.infrastructure.mongo.chunking import (
    CHUNK_PERIOD,
    chunk_end,
    chunk_start,
    chunk_starts,
    decode,
    encode,
    merge_chunk,
    nominal_bars,
)

KEY = SeriesKey(Symbol("BINANCE", "BTCUSDT"), Interval.M1, "tradingview")
Row = tuple[float, float, float, float, float, bool]
rows = st.dictionaries(
    st.integers(0, 200).map(lambda i: i * 60),
    st.tuples(*(st.floats(0, 1e6, allow_nan=False) for _ in range(5)), st.booleans()),
    max_size=40,
)


def columns(batch: dict[int, Row]) -> BarColumns:
    times = sorted(batch)
    values = list(zip(*(batch[t] for t in times), strict=True)) if times else [[] for _ in range(6)]
    return BarColumns.of(KEY, times, *values)


def as_dict(chunk: BarColumns) -> dict[int, Row]:
    values = zip(chunk.open.tolist(), chunk.high.tolist(), chunk.low.tolist(), chunk.close.tolist(),
                 chunk.volume.tolist(), chunk.partial.tolist(), strict=True)
    return dict(zip(chunk.time.tolist(), values, strict=True))


@settings(max_examples=200, deadline=None)
@given(st.lists(rows, max_size=8))
def test_merging_any_sequence_equals_last_write_wins_dict(batches) -> None:
    model: dict[int, Row] = {}
    chunk: BarColumns | None = None
    for batch in batches:
        expected_changed = sum(1 for t, row in batch.items() if model.get(t) != row)
        chunk, changed = merge_chunk(chunk, columns(batch))
        model.update(batch)
        assert changed == expected_changed
    stored = as_dict(chunk) if chunk is not None else {}
    assert stored == model
    if chunk is not None:
        assert chunk.time.tolist() == sorted(model)
        assert as_dict(decode(KEY, {"n": len(chunk), **encode(chunk)})) == model


def test_a_version_3_payload_reads_back_and_version_2_payloads_still_read() -> None:
    chunk = columns({0: (1.5, 2.0, 1.0, 1.75, 3.0, True), 60: (2.0, 2.5, 1.5, 2.25, 0.0, False)})
    payload = {"n": 2, **encode(chunk)}
    assert set(payload) == {"n", "dt", "o", "h", "l", "c", "v", "p"}
    assert as_dict(decode(KEY, payload)) == as_dict(chunk)
    plain = {name: np.array(getattr(chunk, field), "<f8").tobytes()
             for name, field in (("o", "open"), ("h", "high"), ("l", "low"), ("c", "close"), ("v", "volume"))}
    old = decode(KEY, {"t": np.array([0, 60], "<i8").tobytes(), "n": 2, **plain})  # no flags: complete bars
    assert old.time.tolist() == [0, 60] and old.partial.tolist() == [False, False]
    assert old.close.tolist() == [1.75, 2.25]


@given(st.integers(0, 4_000_000_000), st.sampled_from(list(Interval)))
def test_a_bar_lies_in_its_chunk(ts, interval) -> None:
    t = interval.align(ts)
    start = chunk_start(interval, t)
    assert start <= t < chunk_end(interval, start)
    assert chunk_start(interval, start) == start


@given(st.lists(st.integers(0, 4_000_000_000), max_size=30), st.sampled_from(list(Interval)))
def test_vectorised_chunk_starts_equal_one_at_a_time(times, interval) -> None:
    got = chunk_starts(interval, np.array(times, dtype=np.int64)).tolist()
    assert got == [chunk_start(interval, t) for t in times]


def test_chunk_periods() -> None:
    friday = calendar.timegm((2024, 3, 1, 13, 0, 0))
    assert chunk_start(Interval.M1, friday) == calendar.timegm((2024, 3, 1, 0, 0, 0))
    assert chunk_end(Interval.M1, calendar.timegm((2024, 2, 1, 0, 0, 0))) == calendar.timegm((2024, 3, 1, 0, 0, 0))
    assert chunk_start(Interval.M5, friday) == calendar.timegm((2024, 3, 1, 0, 0, 0))
    assert chunk_end(Interval.M15, calendar.timegm((2024, 12, 1, 0, 0, 0))) == calendar.timegm((2025, 1, 1, 0, 0, 0))
    assert chunk_start(Interval.M30, friday) == calendar.timegm((2024, 1, 1, 0, 0, 0))
    assert chunk_start(Interval.H4, friday) == calendar.timegm((2024, 1, 1, 0, 0, 0))
    assert chunk_start(Interval.D1, friday) == calendar.timegm((2020, 1, 1, 0, 0, 0))
    assert chunk_start(Interval.MN1, friday) == calendar.timegm((2000, 1, 1, 0, 0, 0))
    assert set(CHUNK_PERIOD) == set(Interval)
    assert all(1_000 <= nominal_bars(i) <= 45_000 for i in Interval)
