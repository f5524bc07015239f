"""Apps built by the real composition root and edge (`bootstrap` + `http_app`) with a test-only router mounted;
`server.root` is what the root built."""

import asyncio
import itertools
import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import pytest
import structlog
from fastapi import APIRouter, FastAPI, Query
from pydantic import BaseModel

from src.app.http import http_app
from src.app.root import Root, bootstrap
from src.common.correlation import get_correlation_id
from src.common.errors import (
    Conflict,
    StoreUnavailable,
    SymbolNotFound,
    UpstreamRejected,
    UpstreamUnavailable,
)
from src.common.settings import Settings
from src.domain.errors import InvalidInterval
from src.domain.events import BarCompletedEvent, BarSyncedEvent
from src.domain.market_data import Interval, OHLCVBar, SeriesKey, Symbol
from src.features.shared.responses import OrjsonResponse
from src.infrastructure.observability.logging import configure_logging
from tests.fixtures.http_server import ServedApp

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True, scope="package")
def _json_logs() -> Iterator[None]:
    """The app's JSON logging: the dev console renderer draws rich tracebacks, seconds per 500."""
    old, root = structlog.get_config(), logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging(level="WARNING", fmt="json")
    yield
    structlog.configure(**old)
    root.handlers[:], root.level = handlers, level


@dataclass
class Probe:
    """What the test routes saw, read by the tests."""

    orders_run: int = 0
    flaky_calls: int = 0
    events: list[Any] = field(default_factory=list)
    root: Root | None = None  # what the composition root built for the app under test


class OrderIn(BaseModel):
    symbol: str
    quantity: int


ERRORS: dict[str, Callable[[], Exception]] = {
    "symbol-not-found": lambda: SymbolNotFound("BINANCE:NOPE is not listed", field="symbol"),
    "conflict": lambda: Conflict("a sync is already running"),
    "upstream-unavailable": lambda: UpstreamUnavailable("TradingView timed out"),
    "store-unavailable": lambda: StoreUnavailable("database down"),
    "upstream-rejected": lambda: UpstreamRejected("banned"),
    "domain": lambda: InvalidInterval("unknown interval '7m'", field="interval"),
    "crash": lambda: RuntimeError("secret internals /etc/passwd"),
}
BAR_KEY = SeriesKey(Symbol("BINANCE", "BTCUSDT"), Interval.M1, "tradingview")


def make_test_router(probe: Probe) -> APIRouter:
    router = APIRouter(prefix="/test")

    @router.get("/ping")
    async def ping() -> OrjsonResponse:
        return OrjsonResponse(b'{"ok":true}')

    @router.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    @router.get("/bars")
    async def bars(
        interval: Annotated[str, Query(pattern=r"^\d+[mhdwM]$")],
        n_bars: Annotated[int, Query(ge=1, le=5000)],
        start: int | None = None,
    ) -> dict[str, Any]:
        return {"interval": interval, "n_bars": n_bars, "start": start}

    @router.get("/raise/{kind}")
    async def raise_(kind: str) -> None:
        raise ERRORS[kind]()

    @router.post("/orders", status_code=201)
    async def orders(order: OrderIn, delay: float = 0.0) -> dict[str, Any]:
        probe.orders_run += 1
        await asyncio.sleep(delay)
        return {"id": uuid.uuid4().hex, "symbol": order.symbol, "quantity": order.quantity}

    @router.post("/flaky", status_code=201)
    async def flaky() -> OrjsonResponse:
        probe.flaky_calls += 1
        if probe.flaky_calls == 1:
            return OrjsonResponse({"error": "boom"}, status_code=503)
        return OrjsonResponse({"call": probe.flaky_calls}, status_code=201)

    @router.post("/publish")
    async def publish() -> dict[str, str | None]:
        cid = get_correlation_id()
        assert probe.root is not None
        bus = probe.root.event_bus
        await bus.publish(BarSyncedEvent(occurred_at=1.0, correlation_id=cid, key=BAR_KEY, bars_fetched=3,
                                         bars_written=2, first_bar_time=60, last_bar_time=180))
        bar = OHLCVBar(Interval.M1, 120, 1.0, 2.0, 0.5, 1.5, 10.0)
        await bus.publish(BarCompletedEvent(occurred_at=2.0, correlation_id=cid, key=BAR_KEY, bar=bar))
        return {"correlation_id": cid}

    return router


def edge_settings(**overrides: Any) -> Settings:
    defaults: dict[str, Any] = {"_env_file": None, "edge_redis_prefix": f"test:{uuid.uuid4().hex}:"}
    return Settings(**{**defaults, **overrides})


def build_app(probe: Probe | None = None, **overrides: Any) -> tuple[FastAPI, Probe]:
    probe = probe or Probe()
    probe.root = bootstrap(edge_settings(**overrides))
    app = http_app(probe.root)
    app.include_router(make_test_router(probe))
    return app, probe


@pytest.fixture
def edge_server(serve_app: Callable[..., ServedApp], tmp_path: Path) -> Callable[..., tuple[ServedApp, Probe]]:
    """`edge_server(**settings_overrides) -> (server, probe)`; each server has an embedded store of its own
    (one process per data directory), unless the test names one."""
    started = itertools.count()

    def start(probe: Probe | None = None, **overrides: Any) -> tuple[ServedApp, Probe]:
        overrides.setdefault("data_dir", str(tmp_path / f"server-{next(started)}"))
        app, probe = build_app(probe, **overrides)
        server = serve_app(app)
        server.root = probe.root  # type: ignore[attr-defined]
        return server, probe

    return start
