"""Live quotes figure: simulator tick → TradingViewClient → QuoteService → QuoteHub → uvicorn WebSocket →
one client, at 1,000 ticks/s for a few seconds, all on one event loop over 127.0.0.1. The service is built
through the composition root (TradingView pointed at the simulator, in-memory fakes for the store).

`ws_tick_to_client_p99_ms`: from the moment `push_tick` is called to the client's receipt of that tick's
quote frame (each tick carries a unique price, so frames are matched exactly). Ticks that reach the hub
back to back, before the client's sender runs, are coalesced into the newest by design: such a tick counts
as delivered by the frame that superseded it (its latency sample ends there) and is counted in
`ws_ticks_coalesced`; `ws_ticks_lost` counts ticks never delivered by any frame (should be 0)."""

import asyncio
import socket
import statistics
import time

import orjson
import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from simulators.tradingview import TradingViewSimulator
from src.app.http import http_app
from src.app.root import Overrides, Root, bootstrap
from src.common.settings import Settings
from src.domain.market_data import Symbol
from src.infrastructure.http.websocket_protocol import BoundedWebSocketProtocol
from src.infrastructure.scheduling.job_store import InProcessJobStore
from src.providers.tradingview import TradingViewConfig, tradingview_provider
from tests.fakes import (
    FakeCache,
    FakeDeadLetterRepository,
    FakeOHLCVRepository,
    FakeSymbolMetadataRepository,
    FakeSymbolRepository,
    FakeSyncStatusRepository,
)

BTC = Symbol("BINANCE", "BTCUSDT")
RATE = 1_000
SECONDS = 3.0
WARMUP = 200


class Probe:
    """Send times by unique price, and the latencies the client observed."""

    def __init__(self) -> None:
        self.sent: dict[float, float] = {}
        self.latencies: list[float] = []
        self.coalesced = 0

    def received(self, price: float) -> None:
        now = time.perf_counter()
        # The frame also delivers every earlier tick it superseded (coalesced).
        while self.sent and (first := next(iter(self.sent))) <= price:
            self.latencies.append((now - self.sent.pop(first)) * 1_000)
            self.coalesced += first != price


async def drive(sim: TradingViewSimulator, probe: Probe, total: int) -> float:
    """Push `total` ticks at RATE per second; returns the rate achieved."""
    begin = time.perf_counter()
    now = time.time()
    i = 0
    while i < total:  # every tick due by now (sleeps have ~1 ms granularity), then yield
        due = min(total, int((time.perf_counter() - begin) * RATE) + 1)
        while i < due:
            price = 50_000.0 + i
            probe.sent[price] = time.perf_counter()
            await sim.push_tick(BTC.ticker, price, 1_000.0 + i, when=now + i / RATE)
            i += 1
        await asyncio.sleep(0.0005)
    return total / (time.perf_counter() - begin)


async def _measure(port: int, sim: TradingViewSimulator, probe: Probe) -> float:
    async with connect(f"ws://127.0.0.1:{port}/api/v1/ws/quotes") as ws:
        await ws.send(orjson.dumps({"action": "subscribe", "symbols": [BTC.ticker], "intervals": ["1m"]}).decode())
        assert orjson.loads(await ws.recv())["type"] == "subscribed"

        return await drive_through(ws, sim, probe, grace_s=2.0)


async def drive_through(ws: ClientConnection, sim: TradingViewSimulator, probe: Probe, *, grace_s: float) -> float:
    """`drive` with `ws`'s quote frames read into `probe`, and up to `grace_s` for the last ones to arrive."""
    async def receive() -> None:
        async for message in ws:
            frame = orjson.loads(message)
            if frame["type"] == "quote":
                probe.received(frame["price"])

    reader = asyncio.create_task(receive())
    achieved = await drive(sim, probe, int(RATE * SECONDS))
    deadline = time.perf_counter() + grace_s
    while probe.sent and time.perf_counter() < deadline:  # noqa: ASYNC110 - the reader owns `sent`
        await asyncio.sleep(0.01)
    reader.cancel()
    return achieved


def _root(sim: TradingViewSimulator) -> Root:
    provider = tradingview_provider(TradingViewConfig(ws_url=sim.ws_url, search_url=sim.search_url,
                                                      signin_url=sim.signin_url, rate_limit=None))
    settings = Settings(_env_file=None, scheduler_enabled=False, rate_limit_enabled=False,  # type: ignore[call-arg]
                        live_bar_intervals=["1m", "5m", "15m", "1h", "1d"])
    return bootstrap(settings, Overrides(
        providers=[provider], bars=FakeOHLCVRepository(), sync_status=FakeSyncStatusRepository(),
        symbols=FakeSymbolRepository(), symbol_metadata=FakeSymbolMetadataRepository(),
        dead_letters=FakeDeadLetterRepository(), job_store=InProcessJobStore(),
        cache=FakeCache(),
    ))


async def run() -> dict[str, float]:
    sim = TradingViewSimulator(heartbeat_interval=10.0)
    await sim.start("127.0.0.1", 0)
    root = _root(sim)
    await root.lifecycle.start()
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on sockets whose proto says TCP.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(http_app(root), log_config=None, access_log=False,
                                           lifespan="off", ws_ping_interval=None, ws=BoundedWebSocketProtocol))
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    probe = Probe()
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn exposes only a flag
            await asyncio.sleep(0.01)
        achieved = await _measure(listener.getsockname()[1], sim, probe)
    finally:
        await root.lifecycle.stop()
        server.should_exit = True
        await serving
        listener.close()
        await sim.stop()
    measured = sorted(probe.latencies[WARMUP:])
    return {
        "ws_tick_to_client_p99_ms": round(measured[int(0.99 * (len(measured) - 1))], 3),
        "ws_tick_to_client_p50_ms": round(statistics.median(measured), 3),
        "ws_ticks_coalesced": float(probe.coalesced),
        "ws_ticks_lost": float(len(probe.sent)),
        "ws_ticks_per_s_achieved": round(achieved),
    }
