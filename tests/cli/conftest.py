"""The command line end to end: the service served over HTTP on a free port (embedded store, the TradingView
simulator upstream), and `pocketquant` invoked in-process with Typer's CliRunner. The simulator runs on
the test's event loop, so the CLI (which runs its own loop) is invoked from a worker thread."""

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from src.app.http import create_app
from src.cli.main import app
from src.common.settings import Settings


@dataclass(frozen=True)
class Service:
    url: str
    settings: Settings

    def env(self) -> dict[str, str]:
        """The environment a `--in-process` command needs to build the same service."""
        s = self.settings
        assert s.mongodb_url is not None
        return {
            "MONGODB_URL": s.mongodb_url.get_secret_value(), "MONGODB_DATABASE": s.mongodb_database,
            "TRADINGVIEW_WS_URL": s.tradingview_ws_url, "TRADINGVIEW_SEARCH_URL": s.tradingview_search_url,
            "TRADINGVIEW_SIGNIN_URL": s.tradingview_signin_url, "TRADINGVIEW_REQUESTS_PER_S": "1000",
        }


@pytest.fixture
def service_settings(tv_simulator, mongo_server) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = dict(
            mongodb_url=mongo_server.uri, mongodb_database=f"cli_{uuid.uuid4().hex[:10]}",
            tradingview_ws_url=tv_simulator.ws_url, tradingview_search_url=tv_simulator.search_url,
            tradingview_signin_url=tv_simulator.signin_url, tradingview_timeout_s=5.0,
            tradingview_requests_per_s=1_000.0, rate_limit_capacity=10_000, scheduler_enabled=False,
            access_log=False,  # the served app shares this process's stdout with the command under test
        )
        return Settings(**{**values, **overrides})

    return build


@pytest.fixture
def service(service_settings, serve_app) -> Service:
    settings = service_settings()
    return Service(serve_app(create_app(settings)).url, settings)


@pytest.fixture
def cli() -> Callable[..., Any]:
    """`await cli("sync", "BINANCE:BTCUSDT", ...)` → Typer's Result (exit_code, stdout, stderr, output)."""
    runner = CliRunner()

    async def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        environment = {"COLUMNS": "200", **(env or {})}
        return await asyncio.to_thread(runner.invoke, app, list(args), env=environment)

    return invoke
