"""Feature set v1: 80 features per bar. Pinned by tests/unit/features/golden/features_v1.npz: never edit a
feature here; add a new version instead.

Prices are the bar's close unless named; returns are close to close; `log` is the natural log; volatility
is not annualised; windows count bars including the current one; calendar fields are those of the bar's
open time in the bar's local time (UTC time + `utc_offset`); a session starts at its first bar.
"""

import math
from collections.abc import Callable

import numpy as np
import talib

from src.domain.features.feature_set import FeatureSet, FeatureSpec
from src.domain.features.inputs import FeatureInputs
from src.domain.features.rolling import change, ratio, rolling_mean, shift, zscore
from src.domain.indicators.columns import FloatArray, IntArray
from src.domain.indicators.spec import IndicatorSpec, parse_specs

INDICATORS = parse_specs([
    "rsi:14", "rsi:7", "macd:12:26:9", "bb:20:2", "sma:20", "sma:50", "sma:100", "sma:200", "ema:12", "ema:26",
    "ema:50", "atr:14", "adx:14", "stoch:14:3:3", "volume_sma:20", "vwap",
])  # spelled out: v1 must not follow a later change of the indicators' default sets
_SPEC_OF_COLUMN: dict[str, IndicatorSpec] = {column: spec for spec in INDICATORS for column in spec.columns}
RETURN_HORIZONS = (1, 2, 3, 5, 10, 20, 60)
VOLATILITY_WINDOWS = (5, 10, 20, 60)


def _warmup(*columns: str) -> int:
    return max(_SPEC_OF_COLUMN[column].warmup.bars for column in columns)


def _returns(horizon: int) -> tuple[FeatureSpec, FeatureSpec]:
    def simple(x: FeatureInputs) -> FloatArray:
        return change(x.close, shift(x.close, horizon))

    def log(x: FeatureInputs) -> FloatArray:
        return x.log_close - shift(x.log_close, horizon)

    return (
        FeatureSpec(f"ret_{horizon}", f"close / close {horizon} bars earlier - 1", simple, horizon),
        FeatureSpec(f"logret_{horizon}", f"log(close / close {horizon} bars earlier)", log, horizon),
    )


def _realized_volatility(window: int) -> FeatureSpec:
    def compute(x: FeatureInputs) -> FloatArray:
        return np.sqrt(rolling_mean(x.log_return**2, window))

    description = f"sqrt of the mean squared 1-bar log return over {window} bars"
    return FeatureSpec(f"rvol_{window}", description, compute, window)


def _parkinson_20(x: FeatureInputs) -> FloatArray:
    log_range = np.log(ratio(x.columns.high, x.columns.low))
    return np.sqrt(rolling_mean(log_range**2, 20) / (4.0 * math.log(2.0)))


def _rvol_ratio(x: FeatureInputs) -> FloatArray:
    return ratio(np.sqrt(rolling_mean(x.log_return**2, 5)), np.sqrt(rolling_mean(x.log_return**2, 60)))


def _zscore(name: str, column: str, window: int) -> FeatureSpec:
    def compute(x: FeatureInputs) -> FloatArray:
        values: FloatArray = getattr(x.columns, column) if column != "log_return" else x.log_return
        return zscore(values, window)

    description = f"({column} - its mean) / its population stddev over {window} bars"
    return FeatureSpec(name, description, compute, window if column == "log_return" else window - 1)


def _indicator(name: str, description: str, column: str) -> FeatureSpec:
    return FeatureSpec(name, description, lambda x: x.indicator(column), _warmup(column))


def _distance(name: str, column: str) -> FeatureSpec:
    def compute(x: FeatureInputs) -> FloatArray:
        return change(x.close, x.indicator(column))

    return FeatureSpec(name, f"close / {column} - 1", compute, _warmup(column))


def _spread(name: str, fast: str, slow: str) -> FeatureSpec:
    def compute(x: FeatureInputs) -> FloatArray:
        return change(x.indicator(fast), x.indicator(slow))

    return FeatureSpec(name, f"{fast} / {slow} - 1", compute, _warmup(fast, slow))


def _per_close(name: str, column: str) -> FeatureSpec:
    def compute(x: FeatureInputs) -> FloatArray:
        return ratio(x.indicator(column), x.close)

    return FeatureSpec(name, f"{column} / close", compute, _warmup(column))


def _bb_pctb(x: FeatureInputs) -> FloatArray:
    upper, lower = x.indicator("bb_upper_20_2"), x.indicator("bb_lower_20_2")
    return ratio(x.close - lower, upper - lower)


def _bb_width(x: FeatureInputs) -> FloatArray:
    return ratio(x.indicator("bb_upper_20_2") - x.indicator("bb_lower_20_2"), x.indicator("bb_middle_20_2"))


def _close_location(x: FeatureInputs) -> FloatArray:
    return ratio(x.close - x.columns.low, x.columns.high - x.columns.low)


def _upper_wick(x: FeatureInputs) -> FloatArray:
    return ratio(x.columns.high - np.maximum(x.columns.open, x.close), x.close)


def _lower_wick(x: FeatureInputs) -> FloatArray:
    return ratio(np.minimum(x.columns.open, x.close) - x.columns.low, x.close)


def _range_ratio_20(x: FeatureInputs) -> FloatArray:
    bar_range = x.columns.high - x.columns.low
    return ratio(bar_range, rolling_mean(bar_range, 20))


def _session_gap(x: FeatureInputs) -> FloatArray:
    first = x.session_first
    close_before = np.concatenate(([np.nan], x.close))[first]  # the close of the bar before the session
    return change(x.columns.open[first], close_before)


def _signed_volume_ratio(x: FeatureInputs) -> FloatArray:
    direction = np.sign(x.close - x.previous_close)
    return ratio(rolling_mean(direction * x.columns.volume, 20), rolling_mean(x.columns.volume, 20))


def _log_volume(x: FeatureInputs) -> FloatArray:
    return np.log1p(x.columns.volume)


def _cyclical(name: str, field: str, period: int, offset: int = 0) -> tuple[FeatureSpec, FeatureSpec]:
    """sin and cos of the field's position in its cycle, so that the cycle's ends are neighbours."""

    def angle(x: FeatureInputs) -> FloatArray:
        values: IntArray = getattr(x, field)
        return 2.0 * math.pi * (values - offset) / period

    position = f"2 pi ({field} - {offset}) / {period}" if offset else f"2 pi {field} / {period}"
    return (
        FeatureSpec(f"{name}_sin", f"sin({position})", lambda x: np.sin(angle(x)), 0),
        FeatureSpec(f"{name}_cos", f"cos({position})", lambda x: np.cos(angle(x)), 0),
    )


def _calendar(name: str, description: str) -> FeatureSpec:
    def compute(x: FeatureInputs) -> FloatArray:
        values: IntArray = getattr(x, name)
        return values.astype(np.float64)

    return FeatureSpec(name, description, compute, 0)


def _session(name: str, description: str, compute: Callable[[FeatureInputs], FloatArray]) -> FeatureSpec:
    return FeatureSpec(name, description, compute, 0, session_anchored=True)


def _dist_high_20(x: FeatureInputs) -> FloatArray:
    return change(x.close, talib.MAX(x.columns.high, timeperiod=20))


def _dist_low_20(x: FeatureInputs) -> FloatArray:
    return change(x.close, talib.MIN(x.columns.low, timeperiod=20))


_FEATURES: tuple[FeatureSpec, ...] = (
    *(feature for horizon in RETURN_HORIZONS for feature in _returns(horizon)),
    *(_realized_volatility(window) for window in VOLATILITY_WINDOWS),
    FeatureSpec("parkinson_vol_20", "Parkinson volatility: sqrt(mean(log(high/low)^2) / (4 log 2)) over 20 bars",
                _parkinson_20, 19),
    FeatureSpec("rvol_ratio_5_60", "rvol_5 / rvol_60", _rvol_ratio, 60),
    _zscore("close_z_20", "close", 20),
    _zscore("close_z_60", "close", 60),
    _zscore("volume_z_20", "volume", 20),
    _zscore("volume_z_60", "volume", 60),
    _zscore("logret_z_20", "log_return", 20),
    FeatureSpec("range_pct", "(high - low) / close", lambda x: ratio(x.columns.high - x.columns.low, x.close), 0),
    FeatureSpec("true_range_pct", "true range / close", lambda x: ratio(x.true_range, x.close), 1),
    FeatureSpec("body_pct", "(close - open) / close", lambda x: ratio(x.close - x.columns.open, x.close), 0),
    FeatureSpec("upper_wick_pct", "(high - max(open, close)) / close", _upper_wick, 0),
    FeatureSpec("lower_wick_pct", "(min(open, close) - low) / close", _lower_wick, 0),
    FeatureSpec("close_location", "(close - low) / (high - low); NaN when high == low", _close_location, 0),
    FeatureSpec("range_ratio_20", "(high - low) / its mean over 20 bars", _range_ratio_20, 19),
    FeatureSpec("gap_pct", "open / previous close - 1", lambda x: change(x.columns.open, x.previous_close), 1),
    FeatureSpec("gap_atr", "(open - previous close) / atr_14",
                lambda x: ratio(x.columns.open - x.previous_close, x.indicator("atr_14")), _warmup("atr_14")),
    _session("session_gap_pct", "open of the session's first bar / close of the bar before it - 1", _session_gap),
    _indicator("rsi_14", "RSI(14)", "rsi_14"),
    _indicator("rsi_7", "RSI(7)", "rsi_7"),
    _per_close("macd_norm", "macd_12_26_9"),
    _per_close("macd_signal_norm", "macd_signal_12_26_9"),
    _per_close("macd_hist_norm", "macd_hist_12_26_9"),
    FeatureSpec("bb_pctb", "(close - bb_lower_20_2) / (bb_upper_20_2 - bb_lower_20_2)", _bb_pctb,
                _warmup("bb_upper_20_2")),
    FeatureSpec("bb_width", "(bb_upper_20_2 - bb_lower_20_2) / bb_middle_20_2", _bb_width, _warmup("bb_upper_20_2")),
    *(_distance(f"dist_sma_{period}", f"sma_{period}") for period in (20, 50, 100, 200)),
    *(_distance(f"dist_ema_{period}", f"ema_{period}") for period in (12, 26, 50)),
    _spread("sma_20_50_spread", "sma_20", "sma_50"),
    _spread("sma_50_200_spread", "sma_50", "sma_200"),
    _spread("ema_12_26_spread", "ema_12", "ema_26"),
    _per_close("atr_pct", "atr_14"),
    _indicator("adx_14", "ADX(14)", "adx_14"),
    _indicator("stoch_k", "Stochastic slow %K(14, 3, 3)", "stoch_k_14_3_3"),
    _indicator("stoch_d", "Stochastic %D(14, 3, 3)", "stoch_d_14_3_3"),
    FeatureSpec("stoch_k_minus_d", "stoch_k - stoch_d",
                lambda x: x.indicator("stoch_k_14_3_3") - x.indicator("stoch_d_14_3_3"), _warmup("stoch_k_14_3_3")),
    FeatureSpec("log_volume", "log(1 + volume)", _log_volume, 0),
    FeatureSpec("log_volume_change_1", "log(1 + volume) - the same 1 bar earlier",
                lambda x: _log_volume(x) - shift(_log_volume(x), 1), 1),
    FeatureSpec("volume_ratio_20", "volume / volume_sma_20",
                lambda x: ratio(x.columns.volume, x.indicator("volume_sma_20")), _warmup("volume_sma_20")),
    FeatureSpec("dollar_volume_log", "log(1 + volume * |close|)",
                lambda x: np.log1p(x.columns.volume * np.abs(x.close)), 0),
    FeatureSpec("vwap_dist", "close / session VWAP - 1", lambda x: change(x.close, x.indicator("vwap")), 0,
                session_anchored=True),
    FeatureSpec("signed_volume_ratio_20", "sum of sign(close change) * volume / sum of volume over 20 bars",
                _signed_volume_ratio, 20),
    FeatureSpec("dist_high_20", "close / highest high of 20 bars - 1", _dist_high_20, 19),
    FeatureSpec("dist_low_20", "close / lowest low of 20 bars - 1", _dist_low_20, 19),
    _session("session_return", "close / open of the session's first bar - 1",
             lambda x: change(x.close, x.columns.open[x.session_first])),
    _calendar("hour_of_day", "hour of the local open time, 0..23"),
    _calendar("minute_of_day", "minute of the local day, 0..1439"),
    _calendar("day_of_week", "local day of week, Monday = 0 .. Sunday = 6"),
    _calendar("day_of_month", "local day of month, 1..31"),
    _calendar("month", "local month, 1..12"),
    _session("minute_of_session", "minutes from the open time of the session's first bar",
             lambda x: (x.columns.time - x.columns.time[x.session_first]) / 60.0),
    _session("bars_since_session_open", "bars since the session's first bar (0 on it)",
             lambda x: (x.bar_index - x.session_first).astype(np.float64)),
    _session("is_session_first_bar", "1 on the session's first bar, else 0",
             lambda x: (x.bar_index == x.session_first).astype(np.float64)),
    *_cyclical("time_of_day", "minute_of_day", 1440),
    *_cyclical("day_of_week", "day_of_week", 7),
    *_cyclical("month", "month", 12, offset=1),
)

FEATURES_V1 = FeatureSet(
    version="v1",
    description="Returns, volatility, z-scores, range and gap, indicator-derived, volume and VWAP, calendar and "
    "session features of each bar",
    features=_FEATURES,
    indicators=INDICATORS,
)
