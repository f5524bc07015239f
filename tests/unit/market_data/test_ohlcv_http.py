"""`GET /ohlcv` over HTTP (the root's app on fakes, no sockets): an oversized `limit` is refused with a 422
naming `limit` in every format, and the `next` link of a symbol with characters a URL must escape is
percent-encoded and leads to the next page."""

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import numpy as np
import pytest

from src.app.http import http_app
from src.domain.market_data import BarColumns, Interval, SeriesKey, Symbol
from tests.world import World

T0 = 1_709_424_000  # 2024-03-03 00:00 UTC
OHLCV = "/api/v1/market-data/ohlcv"


@pytest.fixture
async def api() -> AsyncIterator[tuple[httpx.AsyncClient, World]]:
    world = World(rate_limit_enabled=False)
    transport = httpx.ASGITransport(app=http_app(world.root))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield client, world


async def _store(world: World, exchange: str, code: str, count: int) -> list[int]:
    key = SeriesKey(Symbol(exchange, code), Interval.M1, "tradingview")
    times = T0 + 60 * np.arange(count, dtype=np.int64)
    close = 100 + np.arange(count, dtype=np.float64)
    await world.bars.upsert(key, BarColumns.of(key, times, close, close + 1, close - 1, close,
                                               np.ones(count), np.zeros(count, dtype=bool)))
    return times.tolist()


@pytest.mark.parametrize(("params", "cap"), [
    ({"format": "json"}, 1_000_000), ({"format": "json", "layout": "columns"}, 2_000_000),
    ({"format": "csv"}, 2_000_000), ({"format": "arrow"}, 5_000_000), ({"format": "parquet"}, 5_000_000),
])
async def test_a_limit_beyond_the_formats_cap_is_refused_naming_limit(api, params, cap):
    client, world = api
    await _store(world, "BINANCE", "BTCUSDT", 3)
    url = f"{OHLCV}/BINANCE/BTCUSDT"
    refused = await client.get(url, params={"interval": "1m", "limit": cap + 1, **params})
    assert refused.status_code == 422, refused.text
    assert [error["field"] for error in refused.json()["errors"]] == ["limit"]
    assert str(cap) in refused.json()["errors"][0]["message"].replace(",", "")
    assert (await client.get(url, params={"interval": "1m", "limit": cap, **params})).status_code == 200


@pytest.mark.parametrize(("exchange", "code", "encoded"), [
    ("YAHOO", "^GSPC", "YAHOO/%5EGSPC"), ("CME_MINI", "ES1!", "CME_MINI/ES1%21"), ("NSE", "M&M", "NSE/M%26M"),
])
async def test_the_next_link_is_percent_encoded_and_leads_to_the_next_page(api, exchange, code, encoded):
    client, world = api
    times = await _store(world, exchange, code, 5)
    seen, url = [], f"{OHLCV}/{encoded}?interval=1m&start={T0}&limit=2"
    while url:
        response = await client.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        seen += [bar["timestamp"] for bar in body["bars"]]
        url = body["next"]
        if url:
            assert response.headers["link"] == f'<{url}>; rel="next"'
            assert urlsplit(url).path == f"{OHLCV}/{encoded}"
            assert not set("^!&") & set(urlsplit(url).path)
    assert seen == times
