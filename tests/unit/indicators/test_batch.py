"""Batch values equal TA-Lib's, called here directly with the same parameters; VWAP equals a pandas reference."""

import numpy as np
import pandas as pd
import pytest
import talib
from hypothesis import given, settings

from src.domain.indicators import DEFAULT_INDICATORS, compute, parse_spec

from .series import bar_series, random_columns


def talib_reference(spec_text, c):
    """What TA-Lib itself returns for a spec, output by output."""
    name, *raw = spec_text.split(":")
    p = [float(value) for value in raw]
    h, lo, cl, v = c.high, c.low, c.close, c.volume
    calls = {
        "rsi": lambda: (talib.RSI(cl, int(p[0])),),
        "macd": lambda: talib.MACD(cl, int(p[0]), int(p[1]), int(p[2])),
        "bb": lambda: talib.BBANDS(cl, int(p[0]), p[1], p[1], talib.MA_Type.SMA),
        "sma": lambda: (talib.SMA(cl, int(p[0])),),
        "ema": lambda: (talib.EMA(cl, int(p[0])),),
        "stoch": lambda: talib.STOCH(h, lo, cl, int(p[0]), int(p[1]), talib.MA_Type.SMA, int(p[2]), talib.MA_Type.SMA),
        "atr": lambda: (talib.ATR(h, lo, cl, int(p[0])),),
        "adx": lambda: (talib.ADX(h, lo, cl, int(p[0])),),
        "volume_sma": lambda: (talib.SMA(v, int(p[0])),),
    }
    return calls[name]()


TALIB_SPECS = [spec.text for spec in DEFAULT_INDICATORS if spec.name != "vwap"] + [
    "rsi:2", "rsi:7", "rsi:30", "macd:5:35:5", "macd:3:10:1", "macd:2:3:2", "bb:10:1.5", "bb:50:3", "bb:2:1",
    "sma:2", "sma:7", "ema:2", "ema:9", "ema:100", "stoch:5:1:1", "stoch:21:5:4", "stoch:1:1:1", "atr:1", "atr:7",
    "adx:2", "adx:7", "adx:30", "volume_sma:5",
]


def assert_equals_talib(spec_text, columns):
    (spec,) = parse_spec(spec_text)
    result = compute([spec], columns)
    expected = talib_reference(spec_text, columns)
    assert list(result) == list(spec.columns)
    for name, want in zip(spec.columns, expected, strict=True):
        np.testing.assert_array_equal(result[name], want, err_msg=f"{spec_text} {name}")


@pytest.mark.parametrize("spec_text", TALIB_SPECS)
@pytest.mark.parametrize("seed", [1, 2])
def test_values_equal_talib_on_random_series(spec_text, seed):
    assert_equals_talib(spec_text, random_columns(seed, 2_000, level=[100.0, 0.0003][seed % 2]))


@settings(max_examples=60, deadline=None)
@given(bar_series(max_size=120))
def test_values_equal_talib_on_series_with_flat_stretches_and_short_lengths(columns):
    for spec_text in ("rsi:14", "macd:12:26:9", "bb:20:2", "stoch:14:3:3", "atr:14", "adx:14", "ema:12"):
        assert_equals_talib(spec_text, columns)


def test_outputs_are_float64_aligned_with_the_bars_and_nan_before_they_exist():
    columns = random_columns(3, 500)
    result = compute(DEFAULT_INDICATORS, columns)
    assert all(values.dtype == np.float64 and len(values) == 500 for values in result.values())
    assert np.isnan(result["sma_200"][:199]).all() and not np.isnan(result["sma_200"][199:]).any()
    assert np.isnan(result["rsi_14"][:14]).all() and not np.isnan(result["rsi_14"][14:]).any()
    assert np.isnan(result["adx_14"][:27]).all()
    assert not (result["sma_200"][:199] == 0).any()


@pytest.mark.parametrize("count", [0, 1, 11])  # ema:12, the earliest default, has its first value at 11
def test_a_series_shorter_than_the_lookback_gives_only_nan(count):
    result = compute(DEFAULT_INDICATORS, random_columns(4, count))
    assert all(len(values) == count for values in result.values())
    assert all(np.isnan(values).all() for name, values in result.items() if name != "vwap")


def pandas_vwap(columns):
    frame = pd.DataFrame({
        "session": columns.session_id,
        "pv": (columns.high + columns.low + columns.close) / 3.0 * columns.volume,
        "volume": columns.volume,
    })
    cumulative = frame.groupby("session")[["pv", "volume"]].cumsum()
    return (cumulative["pv"] / cumulative["volume"].where(cumulative["volume"] > 0)).to_numpy()


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_vwap_is_anchored_per_session_like_a_pandas_groupby_cumsum(seed):
    columns = random_columns(seed, 5_000)
    np.testing.assert_allclose(compute(parse_spec("vwap"), columns)["vwap"], pandas_vwap(columns), rtol=1e-10)


@settings(max_examples=60, deadline=None)
@given(bar_series())
def test_vwap_matches_the_pandas_reference_with_zero_volumes_and_short_sessions(columns):
    np.testing.assert_allclose(compute(parse_spec("vwap"), columns)["vwap"], pandas_vwap(columns), rtol=1e-9)


def test_vwap_restarts_at_each_session_and_is_nan_until_volume_trades():
    columns = random_columns(8, 10)
    columns.volume[:] = [0, 2, 1, 0, 3, 1, 1, 1, 1, 1]
    columns.session_id[:] = [1, 1, 1, 2, 2, 2, 3, 3, 3, 3]
    typical = (columns.high + columns.low + columns.close) / 3
    vwap = compute(parse_spec("vwap"), columns)["vwap"]
    assert np.isnan(vwap[0]) and np.isnan(vwap[3])
    assert vwap[1] == pytest.approx(typical[1])
    assert vwap[2] == pytest.approx((2 * typical[1] + typical[2]) / 3)
    assert vwap[4] == pytest.approx(typical[4])
    assert vwap[6] == pytest.approx(typical[6])
