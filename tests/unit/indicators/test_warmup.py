"""Warm-up: computed on a window that starts `warmup` bars before bar t, values from t on equal the
full-series ones (exactly for windowed indicators, within TOLERANCE for smoothed ones; see the `warmup`
module for the rule); and for smoothed indicators TA-Lib's lookback alone would not be enough."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from src.domain.indicators import DEFAULT_INDICATORS, Warmup, compute, history_start, parse_spec, warmup
from src.domain.indicators.warmup import CONVERGENCE, TOLERANCE, convergence_bars, ema_keep, wilder_keep

from .series import assert_columns_close, random_columns

SPECS = [*DEFAULT_INDICATORS, *(spec for text in ("rsi:3", "macd:5:35:5", "ema:100", "adx:30", "atr:2",
                                                 "stoch:21:5:4", "bb:50:3") for spec in parse_spec(text))]
SMOOTHED = [spec for spec in SPECS if spec.name in {"rsi", "macd", "ema", "atr", "adx"}]


def window_and_full(spec, columns, first, history):
    start = history_start(Warmup(history, spec.warmup.to_session_start), columns.session_id, first)
    window = compute([spec], columns.tail(start))
    full = compute([spec], columns)
    offset = first - start
    return {k: v[offset:] for k, v in window.items()}, {k: v[first:] for k, v in full.items()}


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.text)
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), first=st.integers(0, 3_000))
def test_a_window_with_the_warmup_loaded_gives_the_full_series_values(spec, seed, first):
    columns = random_columns(seed, 3_500, volatility=0.02)
    window, full = window_and_full(spec, columns, first, spec.warmup.bars)
    assert_columns_close(window, full, rtol=TOLERANCE)


@pytest.mark.parametrize("spec", SMOOTHED, ids=lambda spec: spec.text)
def test_the_lookback_alone_is_not_enough_for_smoothed_indicators(spec):
    columns = random_columns(11, 4_000, volatility=0.02)
    first = 3_000
    lookback = int(np.isnan(compute([spec], columns)[spec.columns[0]]).sum())  # TA-Lib's first-value index
    window, full = window_and_full(spec, columns, first, lookback)
    differences = [np.nanmax(np.abs(window[k] - full[k])) / np.nanmax(np.abs(full[k])) for k in full]
    assert max(differences) > TOLERANCE


@pytest.mark.parametrize("text", ["sma:50", "bb:20:2", "stoch:14:3:3", "volume_sma:20"])
def test_windowed_indicators_need_only_their_lookback(text):
    (spec,) = parse_spec(text)
    lookback = {"sma:50": 49, "bb:20:2": 19, "stoch:14:3:3": 17, "volume_sma:20": 19}[text]
    assert spec.warmup == Warmup(lookback)
    columns = random_columns(12, 600)
    window, full = window_and_full(spec, columns, 400, lookback)
    assert_columns_close(window, full, rtol=1e-12)
    assert not np.isnan(window[spec.columns[0]][0])


def test_smoothed_warmup_is_the_lookback_plus_the_convergence_of_each_smoothing_stage():
    assert convergence_bars(wilder_keep(14)) == 311  # (13/14) ** 311 <= 1e-10 < (13/14) ** 310
    assert wilder_keep(14) ** 311 <= CONVERGENCE < wilder_keep(14) ** 310
    assert parse_spec("rsi:14")[0].warmup == Warmup(14 + 311)
    assert parse_spec("ema:50")[0].warmup == Warmup(49 + convergence_bars(ema_keep(50)))
    assert parse_spec("macd")[0].warmup == Warmup(25 + 8 + convergence_bars(ema_keep(26)) + convergence_bars(0.8))
    assert parse_spec("adx:14")[0].warmup == Warmup(27 + 2 * 311)
    assert parse_spec("atr:1")[0].warmup == Warmup(1)


def test_vwap_needs_its_session_start_and_the_set_needs_the_largest_warmup():
    assert parse_spec("vwap")[0].warmup == Warmup(0, to_session_start=True)
    needed = warmup(DEFAULT_INDICATORS)
    assert needed == Warmup(max(spec.warmup.bars for spec in DEFAULT_INDICATORS), to_session_start=True)


def test_history_start_goes_back_the_warmup_bars_or_to_the_session_start_whichever_is_earlier():
    session_id = np.array([1, 1, 1, 2, 2, 2, 2, 2, 3, 3], dtype=np.int64)
    assert history_start(Warmup(2), session_id, 6) == 4
    assert history_start(Warmup(2, to_session_start=True), session_id, 6) == 3
    assert history_start(Warmup(5, to_session_start=True), session_id, 6) == 1
    assert history_start(Warmup(0, to_session_start=True), session_id, 2) == 0
    assert history_start(Warmup(50), session_id, 6) == 0


@pytest.mark.parametrize("seed", [21, 22])
def test_vwap_computed_from_the_session_start_equals_the_full_series(seed):
    (spec,) = parse_spec("vwap")
    columns = random_columns(seed, 2_000)
    window, full = window_and_full(spec, columns, 1_234, 0)
    assert_columns_close(window, full, rtol=1e-12)
