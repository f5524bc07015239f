"""Adapters pointed at their simulators, with a generous in-process budget unless a test gives one, and the
simulators' own answers fetched independently (plain aiohttp) as the reference."""

from typing import Any

import aiohttp

from simulators.binance import BinanceSimulator
from simulators.yahoo import YahooSimulator
from src.common.ports import UpstreamLimiter
from src.infrastructure.upstream.limits import InProcessUpstreamLimiter
from src.providers.binance import BinanceConfig, BinanceHistory, BinanceQuoteFeed, BinanceRest, BinanceSymbols
from src.providers.yahoo import YahooConfig, YahooHistory, YahooHttp, YahooQuoteFeed, YahooSymbols


def roomy(source: str) -> InProcessUpstreamLimiter:
    return InProcessUpstreamLimiter(source, 100_000, 100_000, max_wait_s=5)


class BinanceParts:
    def __init__(self, sim: BinanceSimulator, limiter: UpstreamLimiter | None = None, **config: Any) -> None:
        self.config = BinanceConfig(api_url=sim.api_url, stream_url=sim.stream_url, **config)
        self.rest = BinanceRest(self.config, limiter or roomy("binance"))
        self.history = BinanceHistory(self.rest, self.config)
        self.symbols = BinanceSymbols(self.rest, self.config)
        self.feed = BinanceQuoteFeed(self.config, self.rest, self.symbols)

    async def close(self) -> None:
        await self.feed.close()
        await self.rest.close()


class YahooParts:
    def __init__(self, sim: YahooSimulator, limiter: UpstreamLimiter | None = None, clock: Any = None,
                 **config: Any) -> None:
        self.config = YahooConfig(base_url=sim.base_url, cookie_url=sim.base_url + "/", **config)
        self.http = YahooHttp(self.config, limiter or roomy("yahoo"))
        self.history = YahooHistory(self.http, self.config, clock=clock or sim.clock)
        self.symbols = YahooSymbols(self.http)
        self.feed = YahooQuoteFeed(self.config, self.http)

    async def close(self) -> None:
        await self.feed.close()
        await self.http.close()


async def get_json(url: str, **params: Any) -> Any:
    async with aiohttp.ClientSession() as http, http.get(url, params={k: str(v) for k, v in params.items()}) as r:
        assert r.status == 200, await r.text()
        return await r.json(content_type=None)


async def binance_klines(sim: BinanceSimulator, symbol: str, interval: str, **params: Any) -> list[list[Any]]:
    """Every kline in the asked span, paged forward 1,000 at a time (the reference)."""
    rows: list[list[Any]] = []
    while True:
        page = await get_json(sim.api_url + "/v3/klines", symbol=symbol, interval=interval, limit=1000, **params)
        rows += page
        if len(page) < 1000:
            return rows
        params["startTime"] = page[-1][0] + 1
