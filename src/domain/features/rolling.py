"""Causal array helpers for features: each value at bar t reads only bars <= t, NaN where undefined."""

import numpy as np
import numpy.typing as npt
import talib

from src.domain.indicators.columns import FloatArray


def shift(values: FloatArray, bars: int) -> FloatArray:
    """The value `bars` bars earlier (NaN for the first `bars` bars)."""
    shifted = np.full(len(values), np.nan)
    if bars < len(values):
        shifted[bars:] = values[: len(values) - bars]
    return shifted


def ratio(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    """numerator / denominator, NaN where the denominator is 0 (never +-inf)."""
    result = np.full(len(numerator), np.nan)
    np.divide(numerator, denominator, out=result, where=denominator != 0)
    return result


def change(values: FloatArray, reference: FloatArray) -> FloatArray:
    """values / reference - 1."""
    return ratio(values, reference) - 1.0


def _incomplete(values: FloatArray, window: int) -> npt.NDArray[np.bool_]:
    """True where the window of `window` bars ending at t is not full or holds a NaN."""
    missing = np.cumsum(np.isnan(values))
    before = shift(missing.astype(np.float64), window)
    counted = missing - np.nan_to_num(before)
    incomplete = counted > 0
    incomplete[: window - 1] = True
    return incomplete


def rolling_mean(values: FloatArray, window: int) -> FloatArray:
    """Mean of the last `window` values; NaN when one of them is NaN (so a NaN never spreads further)."""
    mean = talib.SMA(np.nan_to_num(values), timeperiod=window) if window > 1 else np.nan_to_num(values)
    return np.where(_incomplete(values, window), np.nan, mean)


def rolling_std(values: FloatArray, window: int) -> FloatArray:
    """Population standard deviation of the last `window` values (TA-Lib's STDDEV), NaN like `rolling_mean`."""
    std = talib.STDDEV(np.nan_to_num(values), timeperiod=window, nbdev=1.0)
    return np.where(_incomplete(values, window), np.nan, std)


def zscore(values: FloatArray, window: int) -> FloatArray:
    """(value - mean) / std over the last `window` values; NaN when the window has no spread."""
    return ratio(values - rolling_mean(values, window), rolling_std(values, window))
