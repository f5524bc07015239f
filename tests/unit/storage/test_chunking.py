"""Chunk periods and the pure chunk merge."""

import calendar
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from src.domain.market_data import Interval
from src.infrastructure.mongo.chunking import (
    CHUNK_PERIOD,
    ChunkColumns,
    chunk_end,
    chunk_start,
    merge_chunk,
    nominal_bars,
)

rows = st.dictionaries(
    st.integers(0, 200).map(lambda i: i * 60),
    st.tuples(*(st.floats(0, 1e6, allow_nan=False) for _ in range(5)), st.integers(0, 1)),  # o h l c v, partial
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(rows, max_size=8))
def test_merging_any_sequence_equals_last_write_wins_dict(batches) -> None:
    model: dict[int, tuple[float, ...]] = {}
    chunk: ChunkColumns | None = None
    for batch in batches:
        expected_changed = sum(1 for t, row in batch.items() if model.get(t) != row)
        chunk, changed = merge_chunk(chunk, batch)
        model.update(batch)
        assert changed == expected_changed
    stored = chunk.to_rows() if chunk is not None else {}
    assert stored == model
    if chunk is not None:
        assert list(chunk.t) == sorted(model)
        assert ChunkColumns.decode(chunk.encode()).to_rows() == model


@given(st.integers(0, 4_000_000_000), st.sampled_from(list(Interval)))
def test_a_bar_lies_in_its_chunk(ts, interval) -> None:
    t = interval.align(ts)
    start = chunk_start(interval, t)
    assert start <= t < chunk_end(interval, start)
    assert chunk_start(interval, start) == start


def test_chunk_periods() -> None:
    friday = calendar.timegm((2024, 3, 1, 13, 0, 0))
    assert chunk_start(Interval.M1, friday) == calendar.timegm((2024, 3, 1, 0, 0, 0))
    assert datetime.fromtimestamp(chunk_start(Interval.M5, friday), UTC).weekday() == 0
    assert chunk_start(Interval.M15, friday) == calendar.timegm((2024, 3, 1, 0, 0, 0))
    assert chunk_end(Interval.M15, calendar.timegm((2024, 12, 1, 0, 0, 0))) == calendar.timegm((2025, 1, 1, 0, 0, 0))
    assert chunk_start(Interval.H4, friday) == calendar.timegm((2024, 1, 1, 0, 0, 0))
    assert chunk_start(Interval.D1, friday) == calendar.timegm((2020, 1, 1, 0, 0, 0))
    assert chunk_start(Interval.MN1, friday) == calendar.timegm((2000, 1, 1, 0, 0, 0))
    assert set(CHUNK_PERIOD) == set(Interval)
    assert all(900 <= nominal_bars(i) <= 10_000 for i in Interval)
