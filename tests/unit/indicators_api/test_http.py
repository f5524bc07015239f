"""The slice's HTTP surface: the catalogs, 422 problems naming the bad indicator, parameter or version,
and the CSV and Parquet exports read back with pandas and polars (the README's snippets)."""

import io

import numpy as np
import pandas as pd
import polars as pl
import pytest
import talib

from src.domain.features import FEATURES_V1
from tests.unit.indicators_api.conftest import PATH

FEATURES = "/api/v1/features/BINANCE/BTCUSDT"


async def test_the_indicator_catalog_lists_parameters_defaults_bounds_outputs_and_formula_sources(api):
    body = (await api.get("/api/v1/indicators")).json()
    by_name = {item["name"]: item for item in body["indicators"]}
    assert set(by_name) == {"rsi", "macd", "bb", "sma", "ema", "vwap", "stoch", "atr", "adx", "volume_sma"}
    macd = by_name["macd"]
    assert [p["name"] for p in macd["parameters"]] == ["fast_period", "slow_period", "signal_period"]
    assert [p["default"] for p in macd["parameters"]] == [12, 26, 9] and "TA-Lib MACD" in macd["formula_source"]
    assert macd["defaults"][0]["columns"] == ["macd_12_26_9", "macd_signal_12_26_9", "macd_hist_12_26_9"]
    assert by_name["bb"]["parameters"][1] == {"name": "stddev", "default": 2.0, "minimum": 0.1, "maximum": 10.0,
                                               "type": "number"}
    assert [d["spec"] for d in by_name["sma"]["defaults"]] == ["sma:20", "sma:50", "sma:100", "sma:200"]
    assert by_name["vwap"]["defaults"][0]["warmup"] == {"bars": 0, "to_session_start": True}
    assert by_name["sma"]["defaults"][3]["warmup"] == {"bars": 199, "to_session_start": False}


async def test_the_feature_set_catalog_describes_every_feature_of_v1(api):
    [v1] = (await api.get("/api/v1/features/sets")).json()["feature_sets"]
    assert v1["version"] == "v1" and v1["count"] == len(v1["features"]) >= 60
    assert [f["name"] for f in v1["features"]] == list(FEATURES_V1.names)
    assert all(f["description"] for f in v1["features"])


@pytest.mark.parametrize(("indicators", "named"), [
    ("rsi:14,foo:3", "foo"),
    ("rsi:1", "period must be within 2..5000"),
    ("macd:26:12", "fast period must be below slow period"),
    ("bb:20:x", "stddev must be a number"),
    ("sma:20:5", "too many parameters"),
    (",", "at least one"),
])
async def test_an_unknown_indicator_or_bad_parameter_is_a_422_naming_it(api, indicators, named):
    response = await api.get(PATH, params={"interval": "1m", "indicators": indicators})
    problem = response.json()
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    assert named in problem["detail"] and problem["errors"][0]["field"].startswith("indicators")


async def test_an_unknown_feature_set_version_or_source_or_format_is_a_422_naming_it(api):
    version = await api.get(FEATURES, params={"version": "v0"})
    assert version.status_code == 422 and version.json()["field"] == "version" and "v1" in version.json()["detail"]
    source = await api.get(PATH, params={"source": "nowhere"})
    assert source.status_code == 422 and source.json()["field"] == "source"
    form = await api.get(PATH, params={"format": "xlsx"})
    assert form.status_code == 422 and form.json()["errors"][0]["field"] == "format"


async def test_csv_export_reads_back_with_pandas_and_polars_nulls_as_missing(api, stored):
    params = {"interval": "1m", "indicators": "sma:50,vwap", "start": int(stored.time[0]), "end": int(stored.time[99])}
    response = await api.get(PATH, params={**params, "format": "csv"})
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="tradingview_BINANCE_BTCUSDT_1m_indicators.csv"' in response.headers["content-disposition"]
    assert response.text.splitlines()[0] == "time,sma_50,vwap"
    frame = pd.read_csv(io.BytesIO(response.content), parse_dates=["time"], index_col="time")
    want = talib.SMA(stored.close, timeperiod=50)[:100]
    np.testing.assert_allclose(frame["sma_50"].to_numpy(), want, rtol=1e-12, equal_nan=True)
    assert frame.index[0] == pd.Timestamp(int(stored.time[0]), unit="s", tz="UTC")
    polars = pl.read_csv(io.BytesIO(response.content), try_parse_dates=True)
    assert polars["sma_50"].null_count() == 49 and polars["time"].dtype == pl.Datetime("us", "UTC")


async def test_parquet_export_of_features_reads_back_with_pandas_and_polars(api, stored):
    response = await api.get(FEATURES, params={"interval": "1m", "limit": 300, "format": "parquet"})
    assert response.headers["content-type"] == "application/vnd.apache.parquet"
    frame = pd.read_parquet(io.BytesIO(response.content))
    assert list(frame.columns) == ["time", *FEATURES_V1.names] and len(frame) == 300
    assert isinstance(frame["time"].dtype, pd.DatetimeTZDtype) and str(frame["time"].dt.tz) == "UTC"
    assert frame["time"].iloc[-1] == pd.Timestamp(int(stored.time[-1]), unit="s", tz="UTC")
    json_rows = (await api.get(FEATURES, params={"interval": "1m", "limit": 300})).json()["rows"]
    np.testing.assert_allclose(frame["rsi_14"].to_numpy(), [r["rsi_14"] for r in json_rows], rtol=1e-15)
    polars = pl.read_parquet(io.BytesIO(response.content))
    assert polars.height == 300 and polars["ret_1"].null_count() == 0


async def test_an_empty_series_answers_zero_rows_in_every_format(api):
    body = (await api.get(PATH, params={"interval": "4h", "indicators": "rsi"})).json()
    assert (body["count"], body["rows"], body["columns"]) == (0, [], ["rsi_14"])
    csv = await api.get(PATH, params={"interval": "4h", "indicators": "rsi", "format": "csv"})
    assert csv.text == "time,rsi_14\n"
    parquet = await api.get(FEATURES, params={"interval": "4h", "format": "parquet"})
    assert len(pd.read_parquet(io.BytesIO(parquet.content))) == 0
