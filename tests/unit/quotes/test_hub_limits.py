"""QuoteHub's limits with in-memory sockets: connection caps per client and per address (1008), symbols per
connection, the shared rate-limit bucket spent per message (a subscribe one token per symbol; refused: an
error frame, then 1008 after three), bounded queues (1013), and references released when a client leaves."""

import asyncio

from src.features.quotes.messages import ReleaseQuotesCommand, SubscribeQuotesCommand, UnsubscribeQuotesCommand
from src.features.quotes.ws import CLOSE_POLICY, CLOSE_TOO_SLOW, HubLimits, QuoteHub
from tests.unit.quotes.conftest import BAD, BTC
from tests.unit.quotes.test_hub import FakeSocket, Upstream, until


class Address:
    def __init__(self, host: str) -> None:
        self.host = host


class AddressedSocket(FakeSocket):
    def __init__(self, host: str = "10.0.0.1", forwarded_for: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.client = Address(host)
        self.scope = {"headers": [(b"x-forwarded-for", forwarded_for.encode())] if forwarded_for else []}


class Budget:
    """A `ClientLimits`: forwarded addresses believed from 10.9.9.9; `tokens` per client, no refill."""

    def __init__(self, tokens: int = 1_000) -> None:
        self.tokens: dict[str, int] = {}
        self.initial = tokens
        self.spent: list[tuple[str, int]] = []

    def client_of(self, peer, headers):
        forwarded = dict(headers).get(b"x-forwarded-for")
        return forwarded.decode() if peer == "10.9.9.9" and forwarded else peer

    async def spend(self, client, cost=1):
        self.spent.append((client, cost))
        left = self.tokens.get(client, self.initial)
        if left < cost:
            return 0.01
        self.tokens[client] = left - cost
        return 0.0


def hub(budget=None, **limits) -> tuple[QuoteHub, Upstream]:
    upstream = Upstream()
    return QuoteHub(upstream, client_limits=budget or Budget(), limits=HubLimits(**limits)), upstream


async def serve(hub_: QuoteHub, socket: FakeSocket, tasks: list) -> FakeSocket:
    tasks.append(asyncio.create_task(hub_.serve(socket)))
    await asyncio.sleep(0)
    return socket


async def test_connections_beyond_the_cap_of_a_client_or_an_address_are_closed_with_1008():
    hub_, _ = hub(max_connections_per_client=2, max_connections_per_address=3)
    tasks: list = []
    try:
        kept = [await serve(hub_, AddressedSocket("10.9.9.9", forwarded_for="1.1.1.1"), tasks) for _ in range(2)]
        refused = await serve(hub_, AddressedSocket("10.9.9.9", forwarded_for="1.1.1.1"), tasks)
        other = await serve(hub_, AddressedSocket("10.0.0.2"), tasks)
        await until(lambda: refused.closed is not None)
        assert refused.closed[0] == CLOSE_POLICY and "too many connections" in refused.closed[1]
        assert all(s.closed is None for s in (*kept, other)) and hub_.connections_refused == 1
        for task in tasks[:2]:
            task.cancel()  # two leave: their places are free again
        await until(lambda: len(hub_.clients) == 1)
        again = await serve(hub_, AddressedSocket("10.9.9.9", forwarded_for="1.1.1.1"), tasks)
        await asyncio.sleep(0.01)
        assert again.closed is None
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_subscribe_spends_a_token_per_symbol_of_the_clients_bucket():
    budget = Budget()
    hub_, _ = hub(budget)
    tasks: list = []
    try:
        socket = await serve(hub_, AddressedSocket("10.0.0.7"), tasks)
        socket.say({"action": "subscribe", "symbols": ["BINANCE:BTCUSDT", "BINANCE:ETHUSDT"]})
        socket.say({"action": "ping"})
        await until(lambda: socket.of_type("pong"))
        assert budget.spent == [("10.0.0.7", 2), ("10.0.0.7", 1)]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_messages_over_the_rate_limit_get_an_error_frame_and_the_third_closes_with_1008():
    hub_, _ = hub(Budget(tokens=2))
    tasks: list = []
    try:
        socket = await serve(hub_, AddressedSocket(), tasks)
        for _ in range(6):
            socket.say({"action": "ping"})
        await until(lambda: socket.closed is not None)
        assert len(socket.of_type("pong")) == 2
        assert [f["error"] for f in socket.of_type("error")] == ["RateLimited", "RateLimited"]
        assert socket.closed == (CLOSE_POLICY, "rate limit exceeded") and hub_.messages_refused == 3
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_symbols_beyond_the_connections_cap_are_refused():
    hub_, upstream = hub(max_symbols_per_connection=2)
    tasks: list = []
    try:
        socket = await serve(hub_, AddressedSocket(), tasks)
        socket.say({"action": "subscribe", "symbols": ["BINANCE:BTCUSDT", "BINANCE:ETHUSDT", "BINANCE:SOLUSDT"]})
        await until(lambda: socket.of_type("error"))
        assert "at most 2 symbols" in socket.of_type("error")[0]["detail"] and upstream.commands == []
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_client_that_does_not_read_its_pongs_is_dropped_with_1013_when_its_queue_overflows():
    hub_, _ = hub(max_queued_per_client=4)
    tasks: list = []
    try:
        socket = await serve(hub_, AddressedSocket(blocked=True), tasks)
        for _ in range(10):
            socket.say({"action": "ping"})
        await until(lambda: socket.closed is not None)
        assert socket.closed[0] == CLOSE_TOO_SLOW and hub_.clients_dropped == 1
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_failed_subscribe_releases_what_it_took_and_a_leaving_client_releases_everything():
    hub_, upstream = hub()
    tasks: list = []
    socket = await serve(hub_, AddressedSocket(), tasks)
    socket.say({"action": "subscribe", "symbols": ["BINANCE:BTCUSDT", "BINANCE:NOPE"]})
    await until(lambda: socket.of_type("error"))
    assert upstream.commands[-1] == UnsubscribeQuotesCommand((BTC, BAD), holder="ws:1")
    assert not hub_.wants(BTC)
    socket.say({"action": "subscribe", "symbols": ["BINANCE:BTCUSDT"]})
    await until(lambda: socket.of_type("subscribed"))
    tasks[0].cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await until(lambda: upstream.commands[-1] == ReleaseQuotesCommand("ws:1"))
    assert SubscribeQuotesCommand((BTC,), (), holder="ws:1") in upstream.commands and not hub_.wants(BTC)
