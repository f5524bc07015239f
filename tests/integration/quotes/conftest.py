"""The quotes slice against the TradingView simulator over real sockets, with a controllable clock.

`live` builds the service through the composition root with the real TradingView provider pointed at the
simulator and fakes for the store and cache (FakeClock for the close timer); `served` serves the root's
HTTP app with uvicorn on a free 127.0.0.1 port on the test's loop."""

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
import uvicorn

from src.app.http import http_app
from src.app.root import Overrides, Root, bootstrap
from src.common.mediator import Mediator
from src.common.settings import Settings
from src.domain.events import BarCompletedEvent
from src.domain.market_data import Instrument, Interval, OHLCVBar, SeriesKey, Symbol
from src.features.quotes.service import QuoteService
from src.features.quotes.ws import QuoteHub
from src.infrastructure.scheduling.job_store import InProcessJobStore
from src.providers.tradingview import TradingViewClient, tradingview_provider
from tests.fakes import (
    FakeCache,
    FakeClock,
    FakeDeadLetterRepository,
    FakeOHLCVRepository,
    FakeSymbolMetadataRepository,
    FakeSymbolRepository,
    FakeSyncStatusRepository,
)

pytestmark = pytest.mark.integration

BTC = Instrument("tradingview", Symbol("BINANCE", "BTCUSDT"))
ETH = Instrument("tradingview", Symbol("BINANCE", "ETHUSDT"))
# Pushed ticks are stamped in the future: the subscribe snapshot carries the simulator's last trade (now).
T0 = (int(time.time()) // 86_400 + 2) * 86_400


async def until(predicate: Callable[[], object], within: float = 3.0) -> None:
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 - polling state owned by other tasks
            await asyncio.sleep(0.005)


@dataclass
class Live:
    sim: object
    root: Root
    client: TradingViewClient
    service: QuoteService
    hub: QuoteHub
    bars: FakeOHLCVRepository
    cache: FakeCache
    clock: FakeClock
    completed: list[BarCompletedEvent]

    @property
    def mediator(self) -> Mediator:
        return self.root.mediator

    def stored(self, instrument: Instrument, interval: Interval) -> dict[int, OHLCVBar]:
        return self.bars.series.get(SeriesKey(instrument.symbol, interval, instrument.source), {})

    async def push(self, offset: float, price: float, volume: float, ticker: str = BTC.symbol.ticker) -> None:
        """Push a trade at T0 + offset and wait until the service has seen it."""
        await self.sim.push_tick(ticker, price, volume, when=T0 + offset)
        instrument = Instrument("tradingview", Symbol.parse(ticker))
        await until(lambda: (q := self.service.latest_quote(instrument)) is not None
                    and q.time == int(T0 + offset) and q.price == price and q.cumulative_volume == volume)


@pytest.fixture
async def live(tv_simulator, tv_config) -> AsyncIterator[Live]:
    provider = tradingview_provider(tv_config)
    bars, cache, clock = FakeOHLCVRepository(), FakeCache(), FakeClock(T0)
    settings = Settings(scheduler_enabled=False, rate_limit_enabled=False, live_bar_intervals=["1m", "5m", "1h"],
                        live_close_every_s=0.02, live_close_grace_s=2.0)
    root = bootstrap(settings, Overrides(
        clock=clock, providers=[provider], bars=bars, cache=cache, sync_status=FakeSyncStatusRepository(),
        symbols=FakeSymbolRepository(), symbol_metadata=FakeSymbolMetadataRepository(),
        dead_letters=FakeDeadLetterRepository(), job_store=InProcessJobStore(),
    ))
    completed: list[BarCompletedEvent] = []
    root.event_bus.subscribe(BarCompletedEvent, completed.append)
    exposed = root.slices["quotes"].exposed
    await root.lifecycle.start()
    try:
        yield Live(tv_simulator, root, provider.quotes, exposed["service"], exposed["hub"], bars, cache, clock,
                   completed)
    finally:
        await root.lifecycle.stop()


@dataclass
class Served:
    url: str
    ws_url: str
    hub: QuoteHub


@pytest.fixture
async def served(live) -> AsyncIterator[Served]:
    app = http_app(live.root)  # the lifecycle is `live`'s: served without a lifespan
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
        yield Served(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/api/v1/ws/quotes", live.hub)
    finally:
        await live.hub.close()
        server.should_exit = True
        async with asyncio.timeout(10):
            await task
        listener.close()
