"""Property: any sequence of upserts leaves the store equal to a dict model of last write wins."""

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from src.domain.market_data import Interval, OHLCVBar, SeriesKey, Symbol
from src.infrastructure.mongo.ohlcv_repository import MongoOHLCVRepository
from tests.integration.storage.test_ohlcv_repository import T0

pytestmark = pytest.mark.integration

_series = itertools.count()
# minutes spread over three days so batches cross chunk boundaries
times = st.integers(0, 3 * 1440 - 1).map(lambda i: T0 + 60 * i)
bar_rows = st.tuples(times, st.integers(1, 1000), st.integers(0, 50))
batches = st.lists(st.lists(bar_rows, max_size=30), min_size=1, max_size=5)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches)
async def test_any_upsert_sequence_matches_last_write_wins(mongo_db, sequence) -> None:
    repo = MongoOHLCVRepository(mongo_db)
    key = SeriesKey(Symbol("TEST", f"S{next(_series)}"), Interval.M1, "tradingview")
    model: dict[int, tuple[float, ...]] = {}
    for batch in sequence:
        bars = [OHLCVBar(Interval.M1, t, p, p + 1, p - 1 if p > 1 else p, p, v) for t, p, v in batch]
        by_time = {b.time: (b.open, b.high, b.low, b.close, b.volume) for b in bars}
        expected = sum(1 for t, row in by_time.items() if model.get(t) != row)
        assert await repo.upsert(key, bars) == expected
        model.update(by_time)
    got = await repo.read(key)
    rows = zip(got.open, got.high, got.low, got.close, got.volume, strict=True)
    assert dict(zip(got.time, rows, strict=True)) == model
    assert list(got.time) == sorted(model)
    coverage = await repo.coverage(key)
    assert coverage.bar_count == len(model)
    if model:
        assert (coverage.first_bar_time, coverage.last_bar_time) == (min(model), max(model))
        missing = (max(model) - min(model)) // 60 + 1 - len(model)
        assert coverage.missing_bars == missing
