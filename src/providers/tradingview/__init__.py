"""TradingView adapter: a native asyncio client on aiohttp, serving history, symbols and live quotes."""

from src.common.ports import Provider
from src.providers.tradingview.client import TradingViewClient, TradingViewConfig

SOURCE = "tradingview"


def tradingview_provider(config: TradingViewConfig) -> Provider:
    client = TradingViewClient(config)
    return Provider(SOURCE, history=client, symbols=client, quotes=client, close=client.close)


__all__ = ["SOURCE", "TradingViewClient", "TradingViewConfig", "tradingview_provider"]
