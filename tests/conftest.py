"""Shared fixtures. Servers (Redis, mongoeco, the TradingView simulator) are started by the tests
themselves on free 127.0.0.1 ports and stopped afterwards; nothing reaches outside this machine."""

pytest_plugins = [
    "tests.fixtures.servers",
    "tests.fixtures.mongo",
    "tests.fixtures.tv_simulator",
    "tests.fixtures.http_server",
]
