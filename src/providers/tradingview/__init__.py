"""TradingView adapter: a native asyncio client on aiohttp, serving history, symbols and live quotes."""

from src.common.ports import Provider, UpstreamLimiter
from src.providers.tradingview.client import TradingViewClient, TradingViewConfig

SOURCE = "tradingview"


def tradingview_provider(config: TradingViewConfig, limiter: UpstreamLimiter | None = None) -> Provider:
    """`limiter`: the source's budget shared by every worker, in place of the client's own (per process)."""
    client = TradingViewClient(config)
    if limiter is not None:
        client.limiter = limiter  # type: ignore[assignment]  # same `await acquire()` call
    return Provider(SOURCE, history=client, symbols=client, quotes=client, close=client.close)


__all__ = ["SOURCE", "TradingViewClient", "TradingViewConfig", "tradingview_provider"]
