"""Binance adapter: native asyncio on aiohttp over Binance's public spot market data (no API key): history from
`/api/v3/klines` at all 13 intervals, symbols from `/api/v3/exchangeInfo`, live trades from the WebSocket
market streams. Symbols are `BINANCE:<pair>` (`BINANCE:BTCUSDT`)."""

from src.common.ports import Provider, UpstreamLimiter
from src.providers.binance.config import BinanceConfig
from src.providers.binance.history import EXCHANGE, BinanceHistory
from src.providers.binance.quotes import BinanceQuoteFeed
from src.providers.binance.rest import SOURCE, BinanceRest
from src.providers.binance.symbols import BinanceSymbols


def binance_provider(config: BinanceConfig, limiter: UpstreamLimiter) -> Provider:
    rest = BinanceRest(config, limiter)
    symbols = BinanceSymbols(rest, config)
    feed = BinanceQuoteFeed(config, rest, symbols)

    async def close() -> None:
        await feed.close()
        await rest.close()

    return Provider(SOURCE, history=BinanceHistory(rest, config), symbols=symbols, quotes=feed, close=close)


__all__ = ["EXCHANGE", "SOURCE", "BinanceConfig", "BinanceHistory", "BinanceQuoteFeed", "BinanceRest",
           "BinanceSymbols", "binance_provider"]
