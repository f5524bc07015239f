"""Background work outlives the request that started it and must not log under that request's id."""

import asyncio

import pytest
import structlog

from simulators.tradingview import TradingViewSimulator
from src.common.correlation import correlation_scope
from src.domain.market_data import Symbol
from src.providers.tradingview import TradingViewClient, TradingViewConfig

pytestmark = pytest.mark.integration


async def test_reconnect_warnings_minutes_later_do_not_carry_the_first_syncs_correlation_id(
        tv_simulator: TradingViewSimulator, tv_config: TradingViewConfig) -> None:
    captured: list[dict] = []
    old = structlog.get_config()

    def capture(_logger, _name, event_dict):
        captured.append(dict(event_dict))
        raise structlog.DropEvent

    structlog.configure(processors=[structlog.contextvars.merge_contextvars, capture], cache_logger_on_first_use=False)
    try:
        tv = TradingViewClient(tv_config)  # as the service holds it: connected by the first request needing it
        try:
            with correlation_scope("first-sync"):
                await tv.subscribe([Symbol("BINANCE", "BTCUSDT")])
            await tv_simulator.stop()  # the upstream goes away long after that request ended
            for _ in range(100):
                if any(e.get("event") == "tradingview_connect_failed" for e in captured):
                    break
                await asyncio.sleep(0.05)
        finally:
            await tv.close()
    finally:
        structlog.configure(**old)
    reconnects = [e for e in captured if e.get("event") == "tradingview_connect_failed"]
    assert reconnects, "the connection never tried to reconnect"
    assert all(e.get("correlation_id") != "first-sync" for e in reconnects)
