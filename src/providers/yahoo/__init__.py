"""Yahoo Finance adapter: the chart, search and quote endpoints yfinance uses, on aiohttp, with the cookie/crumb
handshake. History at all 13 intervals within Yahoo's per-interval limits, symbols and sessions from the chart
metadata, live quotes by polling. Symbols are `YAHOO:<ticker>` (`YAHOO:AAPL`, `YAHOO:^GSPC`, `YAHOO:BTC-USD`)."""

from src.common.ports import Provider, UpstreamLimiter
from src.providers.yahoo.config import YahooConfig
from src.providers.yahoo.history import EXCHANGE, YahooHistory
from src.providers.yahoo.http import SOURCE, YahooHttp
from src.providers.yahoo.quotes import YahooQuoteFeed
from src.providers.yahoo.symbols import YahooSymbols


def yahoo_provider(config: YahooConfig, limiter: UpstreamLimiter) -> Provider:
    http = YahooHttp(config, limiter)
    feed = YahooQuoteFeed(config, http)

    async def close() -> None:
        await feed.close()
        await http.close()

    return Provider(SOURCE, history=YahooHistory(http, config), symbols=YahooSymbols(http), quotes=feed, close=close)


__all__ = ["EXCHANGE", "SOURCE", "YahooConfig", "YahooHistory", "YahooHttp", "YahooQuoteFeed", "YahooSymbols",
           "yahoo_provider"]
