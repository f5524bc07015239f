"""The whole service over real HTTP: uvicorn on a free port with the embedded store (mongoeco), a
throwaway redis-server and the TradingView simulator. The simulator runs on the test's event loop and
the app on its own, so tests use async HTTP clients."""

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import redis

from src.app.http import create_app
from src.common.settings import Settings


@pytest.fixture
def e2e_settings(tv_simulator, mongo_server, redis_server) -> Callable[..., Settings]:
    redis.Redis.from_url(redis_server.url).flushdb()  # our own throwaway server: nobody else uses it

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = dict(
            mongodb_url=mongo_server.uri,
            mongodb_database=f"e2e_{uuid.uuid4().hex[:10]}",
            redis_url=redis_server.url,
            tradingview_ws_url=tv_simulator.ws_url,
            tradingview_search_url=tv_simulator.search_url,
            tradingview_signin_url=tv_simulator.signin_url,
            tradingview_timeout_s=5.0,
            tradingview_requests_per_s=1_000.0,
            rate_limit_capacity=10_000,
        )
        values.update(overrides)
        return Settings(**values)

    return build


@pytest.fixture
async def api(e2e_settings, serve_app) -> AsyncIterator[httpx.AsyncClient]:
    server = serve_app(create_app(e2e_settings()))
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        client.server = server  # type: ignore[attr-defined]
        yield client
