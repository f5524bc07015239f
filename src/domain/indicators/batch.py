"""Whole-series indicator computation: TA-Lib on numpy columns, and a vectorised session-anchored VWAP.

Every function takes the columns and the spec's parameters and returns its outputs in the definition's
order, float64 arrays aligned with the bars, NaN where a value does not exist yet.
"""

import numpy as np
import talib

from src.domain.indicators.columns import Columns, FloatArray, IntArray, session_start_index

type Outputs = tuple[FloatArray, ...]
type Params = tuple[float, ...]

_SMA = talib.MA_Type.SMA  # type: ignore[attr-defined]  # talib's stub does not re-export MA_Type


def rsi(columns: Columns, params: Params) -> Outputs:
    return (talib.RSI(columns.close, timeperiod=int(params[0])),)


def macd(columns: Columns, params: Params) -> Outputs:
    fast, slow, signal = map(int, params)
    return tuple(talib.MACD(columns.close, fastperiod=fast, slowperiod=slow, signalperiod=signal))


def bollinger(columns: Columns, params: Params) -> Outputs:
    period, deviations = int(params[0]), params[1]
    return tuple(talib.BBANDS(columns.close, timeperiod=period, nbdevup=deviations, nbdevdn=deviations))


def sma(columns: Columns, params: Params) -> Outputs:
    return (talib.SMA(columns.close, timeperiod=int(params[0])),)


def ema(columns: Columns, params: Params) -> Outputs:
    return (talib.EMA(columns.close, timeperiod=int(params[0])),)


def stochastic(columns: Columns, params: Params) -> Outputs:
    fastk, slowk, slowd = map(int, params)
    return tuple(
        talib.STOCH(
            columns.high, columns.low, columns.close,
            fastk_period=fastk, slowk_period=slowk, slowk_matype=_SMA, slowd_period=slowd, slowd_matype=_SMA,
        )
    )


def atr(columns: Columns, params: Params) -> Outputs:
    return (talib.ATR(columns.high, columns.low, columns.close, timeperiod=int(params[0])),)


def adx(columns: Columns, params: Params) -> Outputs:
    return (talib.ADX(columns.high, columns.low, columns.close, timeperiod=int(params[0])),)


def volume_sma(columns: Columns, params: Params) -> Outputs:
    return (talib.SMA(columns.volume, timeperiod=int(params[0])),)


def vwap(columns: Columns, params: Params) -> Outputs:
    """Sum of typical price x volume over sum of volume since the session's first bar; NaN while no volume."""
    typical = (columns.high + columns.low + columns.close) / 3.0
    starts = session_start_index(columns.session_id)
    traded_value = session_cumsum(typical * columns.volume, starts)
    volume = session_cumsum(columns.volume, starts)
    result = np.full(len(columns), np.nan)
    np.divide(traded_value, volume, out=result, where=volume > 0)
    return (result,)


def session_cumsum(values: FloatArray, starts: IntArray) -> FloatArray:
    """Running sum of `values` restarting at each session's first bar (`starts`: per bar, that bar's index).

    A log-step scan: pass k adds the partial sum ending 2**k bars earlier when that bar is in the same
    session, so no sum ever includes another session's values (the cumsum of the whole series minus its
    value before the session would: it loses the digits of small sessions after large ones, and turns a
    session without volume into a tiny non-zero one)."""
    total = values.copy()
    since_start = np.arange(len(values)) - starts
    step = 1
    while step <= since_start.max(initial=0):
        summed = total.copy()
        np.add(total[step:], total[:-step], out=summed[step:], where=since_start[step:] >= step)
        total, step = summed, 2 * step
    return total
