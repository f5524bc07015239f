"""Indicator values through the HTTP API equal TA-Lib's own output on the whole stored series, for every
indicator and several parameter sets, including windows that start inside the warm-up; VWAP equals an
independent pandas computation anchored at UTC days."""

import numpy as np
import pandas as pd
import pytest
import talib

from src.domain.indicators.warmup import TOLERANCE
from tests.unit.indicators_api.conftest import PATH, Series, column

SMA = talib.MA_Type.SMA


# name -> (outputs, TA-Lib called directly with the spec's parameters `p` on the whole series `s`)
TALIB = {
    "rsi": (("rsi",), lambda p, s: (talib.RSI(s.close, timeperiod=p[0]),)),
    "macd": (("macd", "macd_signal", "macd_hist"),
             lambda p, s: talib.MACD(s.close, fastperiod=p[0], slowperiod=p[1], signalperiod=p[2])),
    "bb": (("bb_upper", "bb_middle", "bb_lower"),
           lambda p, s: talib.BBANDS(s.close, timeperiod=p[0], nbdevup=p[1], nbdevdn=p[1], matype=SMA)),
    "sma": (("sma",), lambda p, s: (talib.SMA(s.close, timeperiod=p[0]),)),
    "ema": (("ema",), lambda p, s: (talib.EMA(s.close, timeperiod=p[0]),)),
    "stoch": (("stoch_k", "stoch_d"),
              lambda p, s: talib.STOCH(s.high, s.low, s.close, fastk_period=p[0], slowk_period=p[1],
                                       slowk_matype=SMA, slowd_period=p[2], slowd_matype=SMA)),
    "atr": (("atr",), lambda p, s: (talib.ATR(s.high, s.low, s.close, timeperiod=p[0]),)),
    "adx": (("adx",), lambda p, s: (talib.ADX(s.high, s.low, s.close, timeperiod=p[0]),)),
    "volume_sma": (("volume_sma",), lambda p, s: (talib.SMA(s.volume, timeperiod=p[0]),)),
}


def _reference(spec: str, s: Series) -> dict[str, np.ndarray]:
    """TA-Lib's output on the whole series, under the column names the API documents."""
    name, *raw = spec.split(":")
    outputs, call = TALIB[name]
    suffix = "".join(f"_{v}" for v in raw)
    values = call([float(v) if "." in v else int(v) for v in raw], s)
    return {output + suffix: column for output, column in zip(outputs, values, strict=True)}


SPECS = [
    "rsi:14", "rsi:2", "rsi:30", "macd:12:26:9", "macd:5:35:5", "bb:20:2", "bb:10:1.5", "sma:20", "sma:200",
    "ema:12", "ema:50", "stoch:14:3:3", "stoch:5:3:2", "atr:14", "atr:1", "adx:14", "adx:5", "volume_sma:20",
]
# (start index, end index) of the asked window: from the first bar, inside every warm-up, just past the
# longest lookback, deep in the series, and the newest bars.
WINDOWS = [(0, 40), (7, 120), (30, 400), (700, 900), (1_500, 2_999), (2_990, 2_999)]


def assert_matches(got: np.ndarray, want: np.ndarray, what: str) -> None:
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=f"{what}: nulls differ")
    scale = float(np.nanmax(np.abs(want), initial=1.0))
    np.testing.assert_allclose(got, want, rtol=TOLERANCE, atol=TOLERANCE * scale, equal_nan=True, err_msg=what)


@pytest.mark.parametrize("spec", SPECS)
async def test_every_indicator_equals_talib_in_windows_starting_inside_and_after_the_warmup(api, stored, spec):
    reference = _reference(spec, stored)
    for first, last in WINDOWS:
        params = {"interval": "1m", "indicators": spec, "start": int(stored.time[first]),
                  "end": int(stored.time[last])}
        response = await api.get(PATH, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["columns"] == list(reference) and body["count"] == last - first + 1
        assert [row["timestamp"] for row in body["rows"]] == stored.time[first:last + 1].tolist()
        for name, want in reference.items():
            assert_matches(column(body["rows"], name), want[first:last + 1], f"{spec} {name} [{first}:{last}]")


async def test_values_that_do_not_exist_yet_are_null_never_zero(api, stored):
    body = (await api.get(PATH, params={"interval": "1m", "indicators": "sma:200", "start": int(stored.time[0]),
                                        "end": int(stored.time[250])})).json()
    values = [row["sma_200"] for row in body["rows"]]
    assert values[:199] == [None] * 199 and all(isinstance(v, float) and v > 0 for v in values[199:])


def _pandas_vwap(s: Series) -> np.ndarray:
    frame = pd.DataFrame({"time": pd.to_datetime(s.time, unit="s", utc=True), "high": s.high, "low": s.low,
                          "close": s.close, "volume": s.volume})
    frame["traded"] = (frame.high + frame.low + frame.close) / 3 * frame.volume
    day = frame.time.dt.floor("D")
    cumulative = frame.groupby(day)[["traded", "volume"]].cumsum()
    return (cumulative.traded / cumulative.volume.where(cumulative.volume > 0)).to_numpy()


async def test_vwap_is_anchored_at_each_utc_day_as_an_independent_pandas_computation(api, stored):
    want = _pandas_vwap(stored)
    midnight = int(np.flatnonzero(stored.time % 86_400 == 0)[1])  # the second UTC midnight in the series
    for first, last in [(0, 200), (midnight - 30, midnight + 30), (midnight + 700, midnight + 900)]:
        body = (await api.get(PATH, params={"interval": "1m", "indicators": "vwap", "start": int(stored.time[first]),
                                            "end": int(stored.time[last])})).json()
        got = column(body["rows"], "vwap")
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want[first:last + 1]))
        np.testing.assert_allclose(got, want[first:last + 1], rtol=1e-12)


async def test_a_session_whose_bars_have_no_volume_has_a_null_vwap_until_volume_trades(world, api):
    from tests.unit.indicators_api.conftest import KEY, random_series

    series = random_series(10, first=86_400 * 20_000)
    series.volume[:4] = 0.0
    await world.bars.upsert(KEY, series.bars())
    body = (await api.get(PATH, params={"interval": "1m", "indicators": "vwap", "limit": 10})).json()
    assert [row["vwap"] for row in body["rows"]][:4] == [None] * 4 and body["rows"][4]["vwap"] is not None


async def test_limit_returns_the_newest_bars_and_bars_true_adds_the_ohlcv_columns(api, stored):
    body = (await api.get(PATH, params={"interval": "1m", "indicators": "ema:12", "limit": 5, "bars": "true"})).json()
    assert body["columns"] == ["open", "high", "low", "close", "volume", "partial", "ema_12"]
    assert [row["timestamp"] for row in body["rows"]] == stored.time[-5:].tolist()
    assert column(body["rows"], "close").tolist() == stored.close[-5:].tolist()
    assert column(body["rows"], "volume").tolist() == stored.volume[-5:].tolist()
    assert {row["partial"] for row in body["rows"]} == {False}
    assert_matches(column(body["rows"], "ema_12"), talib.EMA(stored.close, timeperiod=12)[-5:], "ema_12")
    first = body["rows"][0]
    assert first["time"] == pd.Timestamp(first["timestamp"], unit="s", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_without_indicators_every_default_indicator_is_computed(api, stored):
    body = (await api.get(PATH, params={"interval": "1m", "limit": 3})).json()
    catalog = (await api.get("/api/v1/indicators")).json()
    assert body["indicators"] == catalog["default_specs"]
    assert "rsi_14" in body["columns"] and "sma_200" in body["columns"] and "vwap" in body["columns"]
    assert_matches(column(body["rows"], "adx_14"), talib.ADX(stored.high, stored.low, stored.close)[-3:], "adx")
