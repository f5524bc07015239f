"""Shared fixtures. Servers (Redis, mongoeco, the TradingView simulator) are started by the tests
themselves on free 127.0.0.1 ports and stopped afterwards; nothing reaches outside this machine."""

import pytest

pytest_plugins = [
    "tests.fixtures.servers",
    "tests.fixtures.mongo",
    "tests.fixtures.tv_simulator",
    "tests.fixtures.http_server",
    "tests.fixtures.webhook_receiver",
    "tests.fixtures.binance_simulator",
    "tests.fixtures.yahoo_simulator",
    "tests.fixtures.logs",
]

_DEPLOYMENT_VARIABLES = (
    "MONGODB_URL", "MONGODB_DATABASE", "REDIS_URL", "TRADINGVIEW_USERNAME", "TRADINGVIEW_PASSWORD",
    "TRADINGVIEW_WS_URL", "TRADINGVIEW_SEARCH_URL", "TRADINGVIEW_SIGNIN_URL", "WEBHOOK_URLS", "API_PORT",
    "BINANCE_API_URL", "BINANCE_STREAM_URL", "YAHOO_BASE_URL", "YAHOO_COOKIE_URL", "BINANCE_ENABLED", "YAHOO_ENABLED",
)


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Apps built by tests never see the developer's deployment settings, never write `./data`, and never
    point at a source's real hosts (a closed local port instead, unless a test passes the simulator)."""
    for name in _DEPLOYMENT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path_factory.mktemp("data")))
    monkeypatch.setenv("TRADINGVIEW_WS_URL", "ws://127.0.0.1:9/socket.io/websocket")
    monkeypatch.setenv("TRADINGVIEW_SEARCH_URL", "http://127.0.0.1:9/symbol_search/v3/")
    monkeypatch.setenv("TRADINGVIEW_SIGNIN_URL", "http://127.0.0.1:9/accounts/signin/")
    monkeypatch.setenv("BINANCE_API_URL", "http://127.0.0.1:9/api")
    monkeypatch.setenv("BINANCE_STREAM_URL", "ws://127.0.0.1:9/")
    monkeypatch.setenv("YAHOO_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("YAHOO_COOKIE_URL", "http://127.0.0.1:9/")
