"""The quotes slice against the TradingView simulator over real sockets, with a controllable clock.

`live` wires simulator → TradingViewClient → QuoteService (fake store and cache, FakeClock for the close
timer); `served` mounts the slice's routes and WebSocket on a small FastAPI app (the composition root does
not wire the quotes slice yet) and serves it with uvicorn on a free 127.0.0.1 port on the test's loop."""

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
import uvicorn
from fastapi import FastAPI

from src.common.event_bus import EventBus
from src.common.injection import inject
from src.common.mediator import Mediator
from src.domain.events import BarCompletedEvent
from src.domain.market_data import Interval, OHLCVBar, SeriesKey, Symbol
from src.features.quotes.handlers import HANDLERS
from src.features.quotes.routes import router as quotes_router
from src.features.quotes.service import QuoteService
from src.features.quotes.ws import QuoteHub
from src.features.quotes.ws import router as quotes_ws_router
from src.infrastructure.http.problems import install_problem_handlers
from src.infrastructure.tradingview import TradingViewClient
from tests.fakes import FakeCache, FakeClock, FakeOHLCVRepository

pytestmark = pytest.mark.integration

BTC = Symbol("BINANCE", "BTCUSDT")
ETH = Symbol("BINANCE", "ETHUSDT")
# Pushed ticks are stamped in the future: the subscribe snapshot carries the simulator's last trade (now).
T0 = (int(time.time()) // 86_400 + 2) * 86_400


async def until(predicate: Callable[[], object], within: float = 3.0) -> None:
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 - polling state owned by other tasks
            await asyncio.sleep(0.005)


@dataclass
class Live:
    sim: object
    client: TradingViewClient
    service: QuoteService
    bars: FakeOHLCVRepository
    cache: FakeCache
    clock: FakeClock
    event_bus: EventBus
    mediator: Mediator
    completed: list[BarCompletedEvent]

    def stored(self, symbol: Symbol, interval: Interval) -> dict[int, OHLCVBar]:
        return self.bars.series.get(SeriesKey(symbol, interval), {})

    async def push(self, offset: float, price: float, volume: float, ticker: str = BTC.ticker) -> None:
        """Push a trade at T0 + offset and wait until the service has seen it."""
        await self.sim.push_tick(ticker, price, volume, when=T0 + offset)
        symbol = Symbol.parse(ticker)
        await until(lambda: (q := self.service.latest_quote(symbol)) is not None
                    and q.time == int(T0 + offset) and q.price == price and q.cumulative_volume == volume)


@pytest.fixture
async def live(tv_simulator, tv_config) -> AsyncIterator[Live]:
    client = TradingViewClient(tv_config)
    bars, cache, clock, bus = FakeOHLCVRepository(), FakeCache(), FakeClock(T0), EventBus()
    completed: list[BarCompletedEvent] = []
    bus.subscribe(BarCompletedEvent, completed.append)
    service = QuoteService(client, bars, cache, bus, clock,
                           intervals=(Interval.M1, Interval.M5, Interval.H1),
                           close_every_s=0.02, close_grace_s=2.0, cache_flush_s=0.01, bar_flush_s=0.01)
    mediator = Mediator({m: inject(h, {"quote_service": service, "cache": cache}) for m, h in HANDLERS.items()})
    await service.start()
    try:
        yield Live(tv_simulator, client, service, bars, cache, clock, bus, mediator, completed)
    finally:
        await service.stop()
        await client.close()


@dataclass
class Served:
    url: str
    ws_url: str
    hub: QuoteHub
    app: FastAPI


@pytest.fixture
async def served(live) -> AsyncIterator[Served]:
    hub = QuoteHub(max_closed_per_client=32, send_timeout_s=2.0)
    live.service.add_listener(hub)
    app = FastAPI()
    app.include_router(quotes_router)
    app.include_router(quotes_ws_router)
    install_problem_handlers(app)
    app.state.mediator = live.mediator
    app.state.quote_hub = hub
    # A small kernel send buffer (inherited by accepted sockets) so that a client that stops reading
    # exerts backpressure after ~100 KB instead of megabytes: keeps the slow-client test short.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP_NODELAY
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16_384)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off",
                                           ws_ping_interval=None))
    task = asyncio.create_task(server.serve(sockets=[listener]))
    await until(lambda: server.started or task.done(), within=5.0)
    try:
        yield Served(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/api/v1/ws/quotes", hub, app)
    finally:
        await hub.close()
        server.should_exit = True
        async with asyncio.timeout(10):
            await task
        listener.close()
        live.service.remove_listener(hub)
