"""Feature set v1 written again, straightforwardly, with pandas (and TA-Lib for the indicators)."""

import math

import numpy as np
import pandas as pd
import talib

SMA = talib.MA_Type.SMA


def reference_v1(columns, utc_offset):
    f = pd.DataFrame({"o": columns.open, "h": columns.high, "l": columns.low, "c": columns.close,
                      "v": columns.volume, "s": columns.session_id, "t": columns.time})
    c, h, lo, o, v = f.c, f.h, f.l, f.o, f.v
    out = {}
    for horizon in (1, 2, 3, 5, 10, 20, 60):
        out[f"ret_{horizon}"] = c.pct_change(horizon)
        out[f"logret_{horizon}"] = np.log(c).diff(horizon)
    r1 = np.log(c).diff()
    for window in (5, 10, 20, 60):
        out[f"rvol_{window}"] = np.sqrt((r1**2).rolling(window).mean())
    out["parkinson_vol_20"] = np.sqrt((np.log(h / lo) ** 2).rolling(20).mean() / (4 * math.log(2)))
    out["rvol_ratio_5_60"] = out["rvol_5"] / out["rvol_60"]
    for name, series, window in (("close_z_20", c, 20), ("close_z_60", c, 60), ("volume_z_20", v, 20),
                                 ("volume_z_60", v, 60), ("logret_z_20", r1, 20)):
        out[name] = (series - series.rolling(window).mean()) / series.rolling(window).std(ddof=0)
    prev = c.shift()
    true_range = pd.concat([h - lo, (h - prev).abs(), (lo - prev).abs()], axis=1).max(axis=1).where(prev.notna())
    out |= {
        "range_pct": (h - lo) / c, "true_range_pct": true_range / c, "body_pct": (c - o) / c,
        "upper_wick_pct": (h - np.maximum(o, c)) / c, "lower_wick_pct": (np.minimum(o, c) - lo) / c,
        "close_location": (c - lo) / (h - lo), "range_ratio_20": (h - lo) / (h - lo).rolling(20).mean(),
        "gap_pct": o / prev - 1,
    }
    atr = talib.ATR(columns.high, columns.low, columns.close, 14)
    out["gap_atr"] = (o - prev) / atr
    session = f.groupby("s")
    first_open = session.o.transform("first")
    close_before_session = prev.where(session.cumcount() == 0).groupby(f.s).transform("first")
    out["session_gap_pct"] = session.o.transform("first") / close_before_session - 1
    out |= _indicator_features(columns, c, v, atr)
    out |= {
        "log_volume": np.log1p(v), "log_volume_change_1": np.log1p(v).diff(),
        "volume_ratio_20": v / v.rolling(20).mean(), "dollar_volume_log": np.log1p(v * c.abs()),
    }
    pv = session.apply(lambda g: ((g.h + g.l + g.c) / 3 * g.v).cumsum(), include_groups=False).reset_index(drop=True)
    out["vwap_dist"] = c / (pv / session.v.cumsum().where(session.v.cumsum() > 0)) - 1
    signed = np.sign(c.diff()) * v
    out["signed_volume_ratio_20"] = signed.rolling(20).sum() / v.rolling(20).sum()
    out["dist_high_20"] = c / h.rolling(20).max() - 1
    out["dist_low_20"] = c / lo.rolling(20).min() - 1
    out["session_return"] = c / first_open - 1
    out |= _calendar_features(f, session, utc_offset)
    return {name: np.asarray(values, dtype=float) for name, values in out.items()}


def _indicator_features(columns, c, v, atr):
    cl, h, lo = columns.close, columns.high, columns.low
    macd, signal, hist = talib.MACD(cl, 12, 26, 9)
    upper, middle, lower = talib.BBANDS(cl, 20, 2.0, 2.0)
    k, d = talib.STOCH(h, lo, cl, 14, 3, SMA, 3, SMA)
    sma = {p: talib.SMA(cl, p) for p in (20, 50, 100, 200)}
    ema = {p: talib.EMA(cl, p) for p in (12, 26, 50)}
    return {
        "rsi_14": talib.RSI(cl, 14), "rsi_7": talib.RSI(cl, 7),
        "macd_norm": macd / cl, "macd_signal_norm": signal / cl, "macd_hist_norm": hist / cl,
        "bb_pctb": (cl - lower) / (upper - lower), "bb_width": (upper - lower) / middle,
        **{f"dist_sma_{p}": cl / sma[p] - 1 for p in sma}, **{f"dist_ema_{p}": cl / ema[p] - 1 for p in ema},
        "sma_20_50_spread": sma[20] / sma[50] - 1, "sma_50_200_spread": sma[50] / sma[200] - 1,
        "ema_12_26_spread": ema[12] / ema[26] - 1, "atr_pct": atr / cl, "adx_14": talib.ADX(h, lo, cl, 14),
        "stoch_k": k, "stoch_d": d, "stoch_k_minus_d": k - d,
    }


def _calendar_features(f, session, utc_offset):
    local = pd.to_datetime(f.t + utc_offset, unit="s")
    minute_of_day = local.dt.hour * 60 + local.dt.minute
    dow, month = local.dt.day_of_week, local.dt.month
    return {
        "hour_of_day": local.dt.hour, "minute_of_day": minute_of_day, "day_of_week": dow,
        "day_of_month": local.dt.day, "month": month,
        "minute_of_session": (f.t - session.t.transform("first")) / 60,
        "bars_since_session_open": session.cumcount(), "is_session_first_bar": (session.cumcount() == 0) * 1,
        "time_of_day_sin": np.sin(2 * np.pi * minute_of_day / 1440),
        "time_of_day_cos": np.cos(2 * np.pi * minute_of_day / 1440),
        "day_of_week_sin": np.sin(2 * np.pi * dow / 7), "day_of_week_cos": np.cos(2 * np.pi * dow / 7),
        "month_sin": np.sin(2 * np.pi * (month - 1) / 12), "month_cos": np.cos(2 * np.pi * (month - 1) / 12),
    }
