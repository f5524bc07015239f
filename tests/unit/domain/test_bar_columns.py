"""`BarColumns`: one test per rule of its docstring, each also held against `OHLCVBar`'s own check, plus
the selections reads are made of."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from src.domain.errors import InvalidBar, InvalidSeries
from src.domain.market_data import Interval, OHLCVBar, SeriesKey, Symbol
from src.domain.market_data.columns import BarColumns, aligned

KEY = SeriesKey(Symbol("BINANCE", "BTCUSDT"), Interval.M1, "tradingview")
T0 = 1_709_251_200  # 2024-03-01 00:00 UTC


def columns(rows: list[tuple], key: SeriesKey = KEY) -> BarColumns:
    return BarColumns.of(key, *zip(*rows, strict=True)) if rows else BarColumns.empty(key)


def good(n: int = 5) -> list[tuple]:
    return [(T0 + 60 * i, 10.0 + i, 12.0 + i, 9.0 + i, 11.0 + i, 1.5 * i, i % 2 == 1) for i in range(n)]


def test_a_valid_column_set_passes_and_converts_to_equal_bars():
    checked = columns(good()).check()
    assert checked.to_bars() == [OHLCVBar(Interval.M1, *row) for row in good()]
    assert checked.time.dtype == np.int64 and checked.close.dtype == np.float64 and checked.partial.dtype == np.bool_


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize("column", [1, 2, 3, 4, 5])
def test_prices_and_volume_must_be_finite(column, value):
    rows = good()
    rows[2] = tuple(value if i == column else x for i, x in enumerate(rows[2]))
    with pytest.raises(InvalidBar, match=f"bar at {T0 + 120}: prices and volume must be finite") as error:
        columns(rows).check()
    assert error.value.field == "price"


@pytest.mark.parametrize("row", [
    (T0, 10.0, 12.0, 10.5, 11.0, 1.0),  # low above open
    (T0, 10.0, 10.5, 9.0, 11.0, 1.0),  # high below close
    (T0, 10.0, 9.0, 11.0, 10.0, 1.0),  # low above high
])
def test_low_and_high_must_bracket_open_and_close(row):
    with pytest.raises(InvalidBar, match="need low <= min") as error:
        columns([row]).check()
    with pytest.raises(InvalidBar):
        OHLCVBar(Interval.M1, *row)
    assert error.value.field == "price"


def test_volume_must_not_be_negative():
    with pytest.raises(InvalidBar, match="volume must be >= 0") as error:
        columns([(T0, 1.0, 1.0, 1.0, 1.0, -0.5)]).check()
    assert error.value.field == "volume"


def test_times_must_be_whole_non_negative_seconds():
    with pytest.raises(InvalidBar, match="epoch seconds >= 0") as error:
        columns([(-60, 1.0, 1.0, 1.0, 1.0, 0.0)]).check()
    assert error.value.field == "time"


@pytest.mark.parametrize(("interval", "t"), [(Interval.H1, T0 + 1800), (Interval.D1, T0 + 48_600)])
def test_session_stamped_times_pass_the_column_rules(interval, t):
    """Whether a time is a bar open is the series' calendar's rule (`bar_opens`), as for `OHLCVBar`:
    NASDAQ's 1h bars open at :30, its daily bars at the session open."""
    key = SeriesKey(KEY.symbol, interval, "tradingview")
    assert len(columns([(t, 1.0, 1.0, 1.0, 1.0, 0.0)], key).check()) == 1


@given(st.lists(st.integers(-10**9, 4 * 10**9), max_size=50), st.sampled_from(list(Interval)))
def test_vectorised_alignment_equals_interval_align(times, interval):
    expected = [interval.align(t) for t in times]
    assert aligned(interval, np.array(times, dtype=np.int64)).tolist() == expected


def test_the_first_broken_bar_is_named():
    rows = good()
    rows[3] = (rows[3][0], 1.0, 1.0, 1.0, 1.0, -1.0, False)
    rows[4] = (rows[4][0] + 1, *rows[4][1:])
    with pytest.raises(InvalidBar, match=f"bar at {T0 + 180}"):
        columns(rows).check()


@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 5)), max_size=40))
def test_normalized_sorts_and_keeps_the_last_of_equal_times(pairs):
    given_columns = columns([(T0 + 60 * m, p, p, p, p, 1.0, False) for m, p in pairs])
    expected = {T0 + 60 * m: float(p) for m, p in pairs}  # a dict keeps the last value per key
    got = given_columns.normalized()
    assert got.time.tolist() == sorted(expected)
    assert got.close.tolist() == [expected[t] for t in sorted(expected)]


def test_columns_of_unequal_length_are_refused():
    with pytest.raises(InvalidSeries):
        BarColumns.of(KEY, [T0, T0 + 60], [1.0], [1.0], [1.0], [1.0], [1.0])


def test_bars_of_another_interval_are_refused():
    with pytest.raises(InvalidSeries):
        BarColumns.from_bars(KEY, [OHLCVBar(Interval.H1, T0, 1.0, 1.0, 1.0, 1.0)])


def test_selections_take_every_column_alike():
    bars = columns(good(10))
    assert bars.between(T0 + 120, T0 + 300).time.tolist() == [T0 + 120 + 60 * i for i in range(4)]
    assert bars.first(3).close.tolist() == [11.0, 12.0, 13.0]
    assert bars.last(2).partial.tolist() == [False, True]
    assert bars.reversed().time.tolist() == bars.time.tolist()[::-1]
    assert BarColumns.concat(KEY, [bars.first(4), bars.last(6)]).to_bars() == bars.to_bars()
    assert len(BarColumns.concat(KEY, [])) == 0
