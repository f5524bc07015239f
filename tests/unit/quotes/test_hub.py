"""QuoteHub with in-memory sockets: coalescing, bounded completed-bar queue, bad messages."""

import asyncio

import orjson
import pytest

from src.common.errors import SymbolNotFound
from src.domain.market_data import Interval, OHLCVBar
from src.domain.realtime.aggregator import BarUpdate
from src.features.quotes.messages import SubscribeQuotesCommand
from src.features.quotes.ws import CLOSE_TOO_SLOW, HubLimits, QuoteHub
from tests.unit.quotes.conftest import BAD, BTC, T0, tick

M1, M5 = Interval.M1, Interval.M5


class FakeSocket:
    def __init__(self, *, blocked: bool = False) -> None:
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.frames: list[dict] = []
        self.gate = asyncio.Event()
        if not blocked:
            self.gate.set()
        self.closed: tuple[int, str] | None = None

    async def accept(self, subprotocol: str | None = None) -> None:
        return None

    async def send_text(self, text: str) -> None:
        await self.gate.wait()
        self.frames.append(orjson.loads(text))

    async def receive(self) -> dict:
        return await self.inbox.get()

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.closed = (code, reason or "")

    def say(self, payload) -> None:
        text = payload if isinstance(payload, str) else orjson.dumps(payload).decode()
        self.inbox.put_nowait({"type": "websocket.receive", "text": text})

    def of_type(self, kind: str) -> list[dict]:
        return [f for f in self.frames if f["type"] == kind]


class Upstream:
    def __init__(self) -> None:
        self.commands: list = []

    async def __call__(self, command):
        self.commands.append(command)
        if BAD in getattr(command, "instruments", ()):
            raise SymbolNotFound("unknown symbols: BINANCE:NOPE", field="symbol")


async def until(predicate, within: float = 2.0) -> None:
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 - polling state owned by other tasks
            await asyncio.sleep(0.002)


def forming(price: float, interval: Interval = M1, time: int = T0) -> BarUpdate:
    return BarUpdate(BTC, OHLCVBar(interval, time, price, price, price, price, 1.0), closed=False)


def closed(time: int) -> BarUpdate:
    return BarUpdate(BTC, OHLCVBar(M1, time, 1.0, 1.0, 1.0, 1.0, 1.0), closed=True)


@pytest.fixture
async def hub_with():
    upstream = Upstream()
    hub = QuoteHub(upstream, limits=HubLimits(max_queued_per_client=3, send_timeout_s=5.0))
    tasks = []

    async def connect(socket: FakeSocket, message=None):
        tasks.append(asyncio.create_task(hub.serve(socket)))
        if message is not None:
            socket.say(message)
            await until(lambda: socket.of_type("subscribed") or socket.of_type("error")
                        or (not socket.gate.is_set() and hub.wants(BTC)))
        return socket

    yield hub, upstream, connect
    for socket_task in tasks:
        socket_task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


SUB_1M = {"action": "subscribe", "symbols": ["BINANCE:BTCUSDT"], "intervals": ["1m"]}


async def test_subscribe_goes_upstream_and_the_client_gets_quotes_and_its_bars(hub_with):
    hub, upstream, connect = hub_with
    socket = await connect(FakeSocket(), SUB_1M)
    assert upstream.commands == [SubscribeQuotesCommand((BTC,), (M1,), holder="ws:1")]
    hub.on_bar_closed(closed(T0 - 60))  # the service reports closed bars before the tick's quote
    hub.on_quote(BTC, tick(T0 + 1, 100.0, 5.0), [forming(100.0), forming(100.0, M5)])
    await until(lambda: len(socket.frames) == 4)
    kinds = [(f["type"], f.get("interval"), f.get("closed")) for f in socket.frames]
    assert kinds == [("subscribed", None, None), ("bar", "1m", True), ("quote", None, None),
                     ("bar", "1m", False)]


async def test_slow_client_gets_the_latest_value_per_key_while_a_fast_one_gets_everything(hub_with):
    hub, _, connect = hub_with
    fast = await connect(FakeSocket(), SUB_1M)
    slow = await connect(FakeSocket(blocked=True), SUB_1M)
    await until(lambda: hub.wants(BTC) and len(hub.clients) == 2 and len(hub._by_instrument[BTC]) == 2)
    for i in range(200):
        hub.on_quote(BTC, tick(T0 + 1, 100.0 + i), [forming(100.0 + i)])
        await asyncio.sleep(0)
    await until(lambda: fast.of_type("quote") and fast.of_type("quote")[-1]["price"] == 299.0)
    assert len(fast.of_type("quote")) > 50
    assert slow.frames == []
    slow.gate.set()
    await until(lambda: slow.of_type("bar"))
    await asyncio.sleep(0.01)
    assert [f["price"] for f in slow.of_type("quote")] [-1] == 299.0
    assert len(slow.of_type("quote")) <= 2  # the one in flight when blocked, then the newest
    assert slow.of_type("bar")[-1]["close"] == 299.0


async def test_a_client_overflowing_the_completed_bar_queue_is_dropped_with_1013(hub_with):
    hub, _, connect = hub_with
    fast = await connect(FakeSocket(), SUB_1M)
    slow = await connect(FakeSocket(blocked=True), SUB_1M)
    await until(lambda: len(hub._by_instrument.get(BTC, ())) == 2)
    for n in range(6):
        hub.on_bar_closed(closed(T0 + 60 * n))
        await asyncio.sleep(0)
    await until(lambda: slow.closed is not None)
    assert slow.closed[0] == CLOSE_TOO_SLOW and "too slow" in slow.closed[1]
    assert hub.clients_dropped == 1 and len(hub.clients) == 1
    await until(lambda: len(fast.of_type("bar")) == 6)
    assert [f["timestamp"] for f in fast.of_type("bar")] == [T0 + 60 * n for n in range(6)]


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ("{not json", "BadMessage"),
        ("[1, 2]", "BadMessage"),
        ({"action": "dance"}, "BadMessage"),
        ({"action": "subscribe", "symbols": []}, "BadMessage"),
        ({"action": "subscribe", "symbols": ["BTCUSDT"]}, "InvalidSymbol"),
        ({"action": "subscribe", "symbols": ["BINANCE:BTCUSDT"], "intervals": ["7m"]}, "InvalidInterval"),
        ({"action": "subscribe", "symbols": ["BINANCE:NOPE"]}, "SymbolNotFound"),
    ],
)
async def test_bad_message_gets_an_error_frame_and_the_connection_stays(hub_with, message, error):
    _, _, connect = hub_with
    socket = await connect(FakeSocket())
    socket.say(message)
    await until(lambda: socket.of_type("error"))
    assert socket.of_type("error")[0]["error"] == error
    socket.say({"action": "ping"})
    await until(lambda: socket.of_type("pong"))
    assert socket.closed is None


async def test_unsubscribe_stops_the_stream_and_interval_unsubscribe_keeps_quotes(hub_with):
    hub, _, connect = hub_with
    socket = await connect(FakeSocket(), {"action": "subscribe", "symbols": ["BINANCE:BTCUSDT"]})
    socket.say({"action": "unsubscribe", "symbols": ["BINANCE:BTCUSDT"], "intervals": ["1m"]})
    await until(lambda: socket.of_type("unsubscribed"))
    hub.on_quote(BTC, tick(T0 + 1, 1.0), [forming(1.0), forming(1.0, M5)])
    await until(lambda: socket.of_type("quote"))
    await asyncio.sleep(0.01)
    assert [f["interval"] for f in socket.of_type("bar")] == ["5m"]
    socket.say({"action": "unsubscribe", "symbols": ["BINANCE:BTCUSDT"]})
    await until(lambda: len(socket.of_type("unsubscribed")) == 2)
    assert not hub.wants(BTC)
