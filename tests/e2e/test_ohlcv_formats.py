"""`GET /ohlcv` over HTTP in every format: round trips against the JSON rows (values, times, dtypes, partial
flags, source), the README's one-line readers in pandas and polars, paging across chunks while bars are
written, resampling with its header, downloads' headers and the bound on concurrent large downloads."""

import asyncio
import io
import json
from urllib.request import urlopen

import httpx
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pymongo import AsyncMongoClient

from src.app.http import create_app
from src.domain.market_data import BarColumns, Interval, SeriesKey, Symbol
from src.infrastructure.mongo.ohlcv_repository import MongoOHLCVRepository

pytestmark = pytest.mark.e2e
KEY = SeriesKey(Symbol("BINANCE", "BTCUSDT"), Interval.M1, "tradingview")
OHLCV = "/api/v1/market-data/ohlcv/BINANCE/BTCUSDT"
T0 = 1_708_387_200  # 2024-02-20 00:00 UTC
COUNT = 25_000  # two month chunks: February's last nine days, March's first eight


def bars(count: int = COUNT, first: int = T0, shift: float = 0.0) -> BarColumns:
    rng = np.random.default_rng(7)
    close = np.round(30_000 + rng.standard_normal(count).cumsum() * 3, 2) + shift
    open_ = close + np.round(rng.standard_normal(count), 2)
    high, low = np.maximum(open_, close) + 0.125, np.minimum(open_, close) - 1e-7
    volume = rng.exponential(3, count) * 1.1
    return BarColumns.of(KEY, first + 60 * np.arange(count, dtype=np.int64), open_, high, low, close, volume,
                         rng.random(count) < 0.05)


@pytest.fixture
async def served(e2e_settings, serve_app, mongo_server):
    settings = e2e_settings(ohlcv_cache_max_bars=5_000, ohlcv_max_downloads=2)
    server = serve_app(create_app(settings))
    client = AsyncMongoClient(mongo_server.uri)
    repo = MongoOHLCVRepository(client[settings.mongodb_database], collections_per_chunk=False)
    await repo.upsert(KEY, bars())
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as api:
        yield api, repo, server.url
    await client.close()


def rows_frame(body: dict) -> pd.DataFrame:
    frame = pd.DataFrame(body["bars"])
    return frame.assign(time=pd.to_datetime(frame["timestamp"], unit="s", utc=True)).drop(columns="timestamp")


VALUES = ["open", "high", "low", "close", "volume"]


async def test_every_format_round_trips_what_the_json_rows_say(served):
    api, _, _ = served
    params = {"interval": "1m", "start": T0, "limit": COUNT}
    rows = rows_frame((await api.get(OHLCV, params=params)).json())
    assert len(rows) == COUNT and rows["partial"].any() and not rows["partial"].all()
    np.testing.assert_array_equal(rows["close"], bars().close)

    columns = (await api.get(OHLCV, params={**params, "layout": "columns"})).json()
    assert (columns["source"], columns["layout"], columns["count"]) == ("tradingview", "columns", COUNT)
    assert columns["columns"]["timestamp"] == rows["time"].dt.as_unit("s").astype("int64").tolist()
    assert all(columns["columns"][name] == rows[name].tolist() for name in [*VALUES, "partial"])

    csv = await api.get(OHLCV, params={**params, "format": "csv"})
    from_csv = pd.read_csv(io.BytesIO(csv.content), parse_dates=["time"])
    assert csv.headers["content-disposition"] == 'attachment; filename="tradingview_BINANCE_BTCUSDT_1m.csv"'
    pd.testing.assert_frame_equal(from_csv, rows[["time", *VALUES, "partial"]], check_dtype=True)

    for form, read in (("arrow", lambda data: pa.ipc.open_stream(data).read_all()), ("parquet", pq.read_table)):
        response = await api.get(OHLCV, params={**params, "format": form})
        table = read(io.BytesIO(response.content) if form == "parquet" else response.content)
        unit = "s" if form == "arrow" else "ms"  # Parquet has no unit of seconds
        assert table.schema.field("time").type == pa.timestamp(unit, tz="UTC")
        assert [table.schema.field(n).type for n in [*VALUES, "partial"]] == [pa.float64()] * 5 + [pa.bool_()]
        assert {k.decode(): v.decode() for k, v in table.schema.metadata.items() if k != b"pandas"} == {
            "source": "tradingview", "exchange": "BINANCE", "symbol": "BTCUSDT", "interval": "1m"}
        frame = table.to_pandas()
        pd.testing.assert_frame_equal(frame.assign(time=frame["time"].astype("datetime64[ns, UTC]")),
                                      rows[["time", *VALUES, "partial"]].assign(
                                          time=rows["time"].astype("datetime64[ns, UTC]")))
        assert response.headers["content-disposition"].endswith(f'.{"arrows" if form == "arrow" else form}"')


async def test_the_readme_one_liners_read_every_format(served):
    _, _, base = served
    url = f"{base}{OHLCV}?interval=1m&start={T0}&limit=3000"
    expected = (await asyncio.to_thread(lambda: rows_frame(json.load(urlopen(url)))))["close"].tolist()
    readers = {
        "pandas json": lambda: pd.DataFrame(json.load(urlopen(url))["bars"]),
        "pandas json columns": lambda: pd.DataFrame(json.load(urlopen(url + "&layout=columns"))["columns"]),
        "pandas csv": lambda: pd.read_csv(url + "&format=csv", parse_dates=["time"]),
        "pandas parquet": lambda: pd.read_parquet(url + "&format=parquet"),
        "pandas arrow": lambda: pa.ipc.open_stream(urlopen(url + "&format=arrow")).read_pandas(),
        "polars json": lambda: pl.DataFrame(json.load(urlopen(url + "&layout=columns"))["columns"]),
        "polars csv": lambda: pl.read_csv(urlopen(url + "&format=csv").read(), try_parse_dates=True),
        "polars parquet": lambda: pl.read_parquet(urlopen(url + "&format=parquet").read()),
        "polars arrow": lambda: pl.read_ipc_stream(urlopen(url + "&format=arrow").read()),
    }
    for name, read in readers.items():
        frame = await asyncio.to_thread(read)
        assert list(frame["close"]) == expected, name


async def test_paging_across_chunks_while_bars_are_written_misses_and_repeats_nothing(served):
    api, repo, _ = served
    seen, params, pages = [], {"interval": "1m", "after": T0 - 1, "limit": 4_000, "format": "json"}, 0
    while True:
        response = await api.get(OHLCV, params=params)
        body = response.json()
        seen += [b["timestamp"] for b in body["bars"]]
        pages += 1
        if pages == 2:  # meanwhile: bars behind the cursor revised, bars after the end appended
            await repo.upsert(KEY, bars(1_000, shift=5.0))
            await repo.upsert(KEY, bars(2_000, first=T0 + 60 * COUNT))
        if body["next"] is None:
            assert "link" not in response.headers
            break
        assert response.headers["link"] == f'<{body["next"]}>; rel="next"'
        params = dict(httpx.URL(body["next"]).params)
    assert seen == [T0 + 60 * i for i in range(COUNT + 2_000)]

    backwards, params = [], {"interval": "1m", "limit": 9_000, "format": "arrow"}
    while params:
        response = await api.get(OHLCV, params=params)
        backwards = pa.ipc.open_stream(response.content).read_all().column("time").cast(pa.int64()).to_pylist() \
            + backwards
        link = response.headers.get("link")
        params = dict(httpx.URL(link[1:link.index(">")]).params) if link else None
    assert backwards == seen


async def test_an_interval_that_is_not_stored_is_resampled_and_says_so(served):
    api, _, _ = served
    response = await api.get(OHLCV, params={"interval": "15m", "start": T0, "limit": 100, "format": "csv"})
    assert response.status_code == 200 and response.headers["x-resampled-from"] == "1m"
    got = pd.read_csv(io.BytesIO(response.content), parse_dates=["time"]).set_index("time")
    source = bars()
    frame = pd.DataFrame({n: getattr(source, n) for n in [*VALUES, "partial"]},
                         index=pd.to_datetime(source.time, unit="s", utc=True))
    expected = frame.resample("15min").agg({"open": "first", "high": "max", "low": "min", "close": "last",
                                            "volume": "sum", "partial": "any"}).head(100)
    pd.testing.assert_frame_equal(got, expected, check_names=False, check_freq=False, rtol=1e-12)
    stored = await api.get(OHLCV, params={"interval": "1m", "limit": 5})
    assert "x-resampled-from" not in stored.headers


async def test_large_downloads_beyond_the_bound_get_a_503_with_retry_after(served):
    api, _, _ = served
    params = {"interval": "1m", "start": T0, "limit": COUNT, "format": "json"}
    async with api.stream("GET", OHLCV, params=params) as first, api.stream("GET", OHLCV, params=params) as second:
        assert (first.status_code, second.status_code) == (200, 200)
        refused = await api.get(OHLCV, params=params)
        assert refused.status_code == 503 and refused.headers["retry-after"]
        assert refused.json()["type"].endswith("overloaded")
        small = await api.get(OHLCV, params={"interval": "1m", "limit": 100})
        assert small.status_code == 200  # small pages are not downloads
        await first.aread()
        await second.aread()
    assert (await api.get(OHLCV, params=params)).status_code == 200


async def test_limits_are_bounded_per_format(served):
    api, _, _ = served
    assert (await api.get(OHLCV, params={"interval": "1m", "limit": 1_000_001})).status_code == 422
    response = await api.get(OHLCV, params={"interval": "1m", "limit": 1_000_001, "format": "arrow"})
    assert response.status_code == 200
