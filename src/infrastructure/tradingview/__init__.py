"""TradingView adapter: a native asyncio client on aiohttp and a protocol-faithful simulator."""

from src.infrastructure.tradingview.client import TradingViewClient, TradingViewConfig

__all__ = ["TradingViewClient", "TradingViewConfig"]
