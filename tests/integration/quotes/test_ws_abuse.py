"""Hostile WebSocket clients (issue 13 §1) over real sockets, the app served as `src.app.serve` serves it (its
WebSocket protocol), the TradingView simulator upstream: subscribe floods, clients that never read, ping floods
(JSON and WebSocket pings) and clients that leave in the middle of a subscribe. In each, a well-behaved client
subscribed beforehand keeps getting its quotes quickly and `/health` stays fast."""

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import orjson
import pytest
import structlog
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from src.app.http import http_app
from src.app.root import Overrides, Root, bootstrap
from src.common.settings import Settings
from src.domain.market_data import Instrument, Symbol
from src.infrastructure.http.websocket_protocol import BoundedWebSocketProtocol
from src.infrastructure.scheduling.job_store import InProcessJobStore
from src.providers.tradingview import tradingview_provider
from tests.fakes import (
    FakeCache,
    FakeDeadLetterRepository,
    FakeOHLCVRepository,
    FakeSymbolRepository,
    FakeSyncStatusRepository,
)
from tests.integration.quotes.conftest import until

pytestmark = pytest.mark.integration

BTC = Instrument("tradingview", Symbol("BINANCE", "BTCUSDT"))
ETH = Instrument("tradingview", Symbol("BINANCE", "ETHUSDT"))
HEALTH_P99_MS = 250.0  # generous for a shared 2-core machine running client and server on one loop
TICK_TO_CLIENT_MS = 500.0


@dataclass
class Abuse:
    root: Root
    sim: object
    url: str
    ws_url: str
    server: uvicorn.Server

    @property
    def hub(self):
        return self.root.slices["quotes"].exposed["hub"]

    @property
    def service(self):
        return self.root.slices["quotes"].exposed["service"]


@pytest.fixture
async def abuse(tv_simulator, tv_config) -> AsyncIterator[Abuse]:
    settings = Settings(scheduler_enabled=False, rate_limit_capacity=40, rate_limit_refill_per_s=10,
                        live_bar_intervals=["1m", "5m", "1h"], ws_send_timeout_s=1.0,
                        ws_max_connections_per_client=16, ws_max_connections_per_address=16)
    root = bootstrap(settings, Overrides(
        providers=[tradingview_provider(tv_config)], bars=FakeOHLCVRepository(), cache=FakeCache(),
        sync_status=FakeSyncStatusRepository(), symbols=FakeSymbolRepository(),
        dead_letters=FakeDeadLetterRepository(), job_store=InProcessJobStore(),
    ))
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(http_app(root), log_config=None, access_log=False, lifespan="on",
                                           ws=BoundedWebSocketProtocol, ws_ping_interval=None))
    task = asyncio.create_task(server.serve(sockets=[listener]))
    await until(lambda: server.started or task.done(), within=10.0)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            assert (await http.post("/api/v1/quotes/start")).is_success
        yield Abuse(root, tv_simulator, f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/api/v1/ws/quotes",
                    server)
    finally:
        server.should_exit = True
        async with asyncio.timeout(15):
            await task
        listener.close()


def subscribe(*tickers: str) -> str:
    return orjson.dumps({"action": "subscribe", "symbols": list(tickers), "intervals": ["1m"]}).decode()


class WellBehaved:
    """A client subscribed to BTC before the abuse, reading everything; `probe()` pushes a trade and times its
    delivery: the first quote frame at or past its cumulative volume (frames coalesce: a later trade's quote
    delivers the earlier ones). Every trade of the test takes its volume from `next_volume()`."""

    def __init__(self, abuse: Abuse, ws: ClientConnection) -> None:
        self.abuse, self.ws = abuse, ws
        self.pending: dict[float, float] = {}  # probe volume -> when it was pushed
        self.latencies: list[float] = []
        self.volume = 1_000.0
        self.reader = asyncio.create_task(self._read())

    def next_volume(self) -> float:
        self.volume += 1
        return self.volume

    async def _read(self) -> None:
        async for message in self.ws:
            frame = orjson.loads(message)
            if frame["type"] == "quote":
                for volume in [v for v in self.pending if v <= frame["volume"]]:
                    self.latencies.append((time.perf_counter() - self.pending.pop(volume)) * 1000)

    async def probe(self) -> None:
        volume = self.next_volume()
        self.pending[volume] = time.perf_counter()
        await self.abuse.sim.push_tick(BTC.symbol.ticker, 70_000.0 + volume % 100, volume)
        await until(lambda: volume not in self.pending, within=5.0)


async def health_p99_ms(url: str, requests: int = 40) -> float:
    latencies = []
    async with httpx.AsyncClient(base_url=url, timeout=15) as http:
        for _ in range(requests):
            began = time.perf_counter()
            response = await http.get("/health")
            assert response.status_code == 200, response.text
            latencies.append((time.perf_counter() - began) * 1000)
            await asyncio.sleep(0.01)
    return sorted(latencies)[int(0.99 * (len(latencies) - 1))]


async def well_behaved_meanwhile(abuse: Abuse, good: WellBehaved, seconds: float = 2.0) -> None:
    """While the abuse runs: `/health` p99 and the good client's tick-to-frame latencies within bounds."""
    health = asyncio.create_task(health_p99_ms(abuse.url))
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await good.probe()
        await asyncio.sleep(0.05)
    assert await health <= HEALTH_P99_MS
    assert good.latencies and max(good.latencies) <= TICK_TO_CLIENT_MS, good.latencies


@pytest.fixture
async def good(abuse) -> AsyncIterator[WellBehaved]:
    async with connect(abuse.ws_url) as ws:
        await ws.send(subscribe(BTC.symbol.ticker))
        assert orjson.loads(await ws.recv())["type"] == "subscribed"
        client = WellBehaved(abuse, ws)
        yield client
        client.reader.cancel()


async def closed_code(ws: ClientConnection, within: float = 10.0) -> int | None:
    """Read until the server closes the connection; its close code (None when it was cut without one)."""
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(within):
            while True:
                await ws.recv()
    return None if closed.value.rcvd is None else closed.value.rcvd.code


def symbols_added_upstream(sim) -> int:
    return sum(sum(isinstance(p, str) for p in params[1:]) for method, params in sim.received
               if method == "quote_add_symbols")


async def test_a_subscribe_flood_is_rate_limited_then_closed_and_adds_few_symbols_upstream(abuse, good):
    async def flood(n: int) -> int | None:
        async with connect(abuse.ws_url) as ws:
            async def send_forever() -> None:
                for k in range(100_000):
                    await ws.send(subscribe(*(f"BINANCE:F{n}X{k}Y{j}" for j in range(10))))
                    await asyncio.sleep(0)  # as fast as the loop allows (a process of its own would not wait)
            sender = asyncio.create_task(send_forever())
            try:
                return await closed_code(ws)
            finally:
                sender.cancel()

    before = symbols_added_upstream(abuse.sim)
    floods = [asyncio.create_task(flood(n)) for n in range(4)]
    await well_behaved_meanwhile(abuse, good)
    assert await asyncio.gather(*floods) == [1008] * 4
    assert symbols_added_upstream(abuse.sim) - before <= 200  # the bucket's 40 and what refills, not thousands
    assert abuse.hub.messages_refused >= 4


async def test_clients_that_never_read_are_dropped_with_1013_counted_and_logged(abuse, good):
    port = int(abuse.url.rsplit(":", 1)[1])
    stuck = []
    for _ in range(3):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", port))
        sock.setblocking(False)
        ws = await connect(abuse.ws_url, sock=sock, max_queue=1).__aenter__()
        await ws.send(subscribe(BTC.symbol.ticker))
        stuck.append(ws)  # never read from now on

    async def trade_hard() -> None:
        for n in range(100_000):
            await abuse.sim.push_tick(BTC.symbol.ticker, 60_000.0 + n % 1000 + n / 1e6, good.next_volume())
            await asyncio.sleep(0.0005)

    trading = asyncio.create_task(trade_hard())
    try:
        with structlog.testing.capture_logs() as logs:
            await until(lambda: abuse.hub.clients_dropped >= 3, within=15.0)
        await well_behaved_meanwhile(abuse, good)
    finally:
        trading.cancel()
    dropped = [entry for entry in logs if entry["event"] == "quotes_ws_client_dropped"]
    assert [entry["code"] for entry in dropped] == [1013] * 3 and all("too slow" in e["reason"] for e in dropped)
    assert abuse.hub.clients_dropped == 3 and len(abuse.hub.clients) == 1
    await until(lambda: len(abuse.server.server_state.connections) <= 1, within=5.0)  # aborted: nothing lingers
    async with httpx.AsyncClient(base_url=abuse.url) as http:
        metrics = (await http.get("/metrics")).text
    assert "quotes_ws_clients_dropped_total 3.0" in metrics
    for ws in stuck:
        assert await closed_code(ws) in (None, 1013)


async def test_a_json_ping_flood_is_rate_limited_and_closed(abuse, good):
    async def flood() -> int | None:
        async with connect(abuse.ws_url) as ws:
            async def ping_forever() -> None:
                while True:
                    await ws.send('{"action": "ping"}')
                    await asyncio.sleep(0)
            sender = asyncio.create_task(ping_forever())
            try:
                return await closed_code(ws)
            finally:
                sender.cancel()

    floods = [asyncio.create_task(flood()) for _ in range(4)]
    await well_behaved_meanwhile(abuse, good)
    assert await asyncio.gather(*floods) == [1008] * 4


async def test_a_websocket_ping_flood_is_cut_off(abuse, good):
    async def flood() -> None:
        async with connect(abuse.ws_url) as ws:
            with pytest.raises(ConnectionClosed):
                async with asyncio.timeout(10):
                    while True:
                        await ws.ping()  # not waiting for the pong
                        await asyncio.sleep(0)

    floods = [asyncio.create_task(flood()) for _ in range(4)]
    await well_behaved_meanwhile(abuse, good)
    await asyncio.gather(*floods)


async def test_clients_leaving_in_the_middle_of_a_subscribe_leave_no_upstream_subscription(abuse, good):
    abuse.sim.faults.delay = 0.3  # the upstream answers slowly: the subscribes are in flight when they leave
    for _ in range(5):
        async with connect(abuse.ws_url) as ws:
            await ws.send(subscribe(ETH.symbol.ticker))
            await asyncio.sleep(0.05)
    await until(lambda: any(method == "quote_add_symbols" for method, _ in abuse.sim.received), within=5.0)
    await asyncio.sleep(1.0)  # the adds answered, and the releases went upstream
    abuse.sim.faults.delay = 0.0
    await until(lambda: ETH not in abuse.service.instruments and abuse.service.holders(ETH) == 0, within=5.0)
    assert BTC in abuse.service.instruments and abuse.service.holders(BTC) == 1
    async with httpx.AsyncClient(base_url=abuse.url) as http:
        status = (await http.get("/api/v1/quotes/status")).json()
    assert [s["symbol"] for s in status["symbols"]] == [BTC.symbol.ticker]
    await well_behaved_meanwhile(abuse, good, seconds=1.0)

