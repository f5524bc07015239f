"""Incremental state: bars fed one by one after seeding give the batch values of the whole series."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from src.domain.indicators import (
    DEFAULT_INDICATORS,
    BarPoint,
    Columns,
    IndicatorState,
    compute,
    parse_specs,
    warmup,
)
from src.domain.indicators.warmup import TOLERANCE
from src.domain.market_data import Interval, OHLCVBar

from .series import T0, assert_columns_close, bar_series, random_columns

OTHER_SPECS = parse_specs(["rsi:2", "macd:3:10:1", "bb:5:1.5", "stoch:1:1:1", "stoch:5:2:4", "atr:1", "adx:2",
                           "ema:2", "volume_sma:3"])


def head(columns, stop):
    return Columns(columns.time[:stop], columns.open[:stop], columns.high[:stop], columns.low[:stop],
                   columns.close[:stop], columns.volume[:stop], columns.session_id[:stop])


def streamed(specs, columns, seeded_with):
    """Values after each bar from `seeded_with` on, as columns."""
    state = IndicatorState.from_history(specs, head(columns, seeded_with))
    rows = [state.update(bar) for bar in columns.tail(seeded_with).rows()]
    return {name: np.array([row[name] for row in rows]) for name in state.latest}


def batch_from(specs, columns, first):
    return {name: values[first:] for name, values in compute(specs, columns).items()}


@settings(max_examples=80, deadline=None)
@given(columns=bar_series(min_size=1), data=st.data())
def test_bars_fed_one_by_one_give_the_batch_values(columns, data):
    seeded_with = data.draw(st.integers(0, len(columns) - 1))
    specs = (*DEFAULT_INDICATORS, *OTHER_SPECS)
    assert_columns_close(streamed(specs, columns, seeded_with), batch_from(specs, columns, seeded_with), rtol=1e-9)


@pytest.mark.parametrize("seed", [31, 32, 33])
def test_a_state_seeded_from_a_long_history_tail_gives_the_full_series_values(seed):
    columns = random_columns(seed, 6_000, volatility=0.02)
    specs = (*DEFAULT_INDICATORS, *OTHER_SPECS)
    assert_columns_close(streamed(specs, columns, 5_000), batch_from(specs, columns, 5_000), rtol=TOLERANCE)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), noise=st.floats(1.0, 1e6))
def test_seeding_reads_only_the_warmup_tail_and_the_current_session(seed, noise):
    columns = random_columns(seed, 3_000)
    needed = warmup(DEFAULT_INDICATORS)
    session_first = int(np.flatnonzero(columns.session_id == columns.session_id[-1])[0])
    untouched_from = min(len(columns) - 1 - needed.bars, session_first)
    for values in (columns.open, columns.high, columns.low, columns.close, columns.volume):
        values[:untouched_from] *= noise
    state = IndicatorState.from_history(DEFAULT_INDICATORS, columns)
    reference = IndicatorState.from_history(DEFAULT_INDICATORS, columns.tail(untouched_from))
    assert state.latest == reference.latest


def test_update_returns_every_column_and_latest_keeps_the_last_values():
    columns = random_columns(34, 400)
    state = IndicatorState.from_history(DEFAULT_INDICATORS, head(columns, 399))
    (bar,) = columns.tail(399).rows()
    values = state.update(bar)
    assert list(values) == [name for spec in DEFAULT_INDICATORS for name in spec.columns]
    assert values == state.latest
    assert math.isnan(values["sma_200"]) is False and math.isnan(values["adx_14"]) is False


def test_a_live_bar_becomes_a_bar_point_with_its_session():
    bar = OHLCVBar(Interval.M1, T0, 10.0, 12.0, 9.0, 11.0, 5.0)
    assert BarPoint.of(bar, 7) == BarPoint(T0, 10.0, 12.0, 9.0, 11.0, 5.0, 7)


def test_a_fresh_state_has_nan_until_values_exist():
    state = IndicatorState(DEFAULT_INDICATORS)
    assert all(math.isnan(value) for value in state.latest.values())
    (bar,) = head(random_columns(35, 1), 1).rows()
    values = state.update(bar)
    assert all(math.isnan(values[name]) for name in values if name != "vwap")
