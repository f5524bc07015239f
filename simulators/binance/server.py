"""`BinanceSimulator`: Binance's public spot market data (REST `/api/v3/*` and the WebSocket market streams)
over a deterministic synthetic market, with request weights, 429/418 and fault switches.

Beside the common control API (`simulators.common.server`):
- `POST /_sim/drop-streams`: cut every WebSocket connection off abruptly
- `POST /_sim/trades` `{"symbol", "price", "quantity", "buyer_maker"}`: a trade now (strings as Binance prints)
- `GET /_sim/stats` also reports `used_weight` per client address and `stream_connections`
"""

import asyncio
import contextlib
import random
import time
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from aiohttp import web

from simulators.binance import klines as kline_rows
from simulators.binance.errors import JSON, BinanceError, server_busy
from simulators.binance.faults import BinanceFaults
from simulators.binance.intervals import KlineInterval
from simulators.binance.market import (
    QUOTE_VOLUME,
    TAKER_BASE,
    TAKER_QUOTE,
    TRADES,
    VOLUME,
    BinanceMarket,
    Trade,
)
from simulators.binance.rest import Endpoint, RestApi
from simulators.binance.streams import StreamConnection, kline_interval, serve_connection, streams_of_path
from simulators.binance.symbols import DEFAULT_SYMBOLS, BinanceSymbol, decimal_text, units
from simulators.binance.weights import WeightLimiter
from simulators.common.pricepath import CLOSE, HIGH, LOW, OPEN
from simulators.common.server import SimulatorServer


class BinanceSimulator(SimulatorServer):
    """`await sim.start(host, port)` (port 0: a free one), then point a client at `sim.api_url` (REST, ending in
    `/api`) and `sim.stream_url` (WebSocket base, `ws://host:port/`). `sim.faults` is live."""

    name = "binance"

    def __init__(self, *, symbols: Iterable[BinanceSymbol] = DEFAULT_SYMBOLS, seed: int = 7,
                 clock: Callable[[], float] = time.time, faults: BinanceFaults | None = None) -> None:
        self.faults: BinanceFaults = faults or BinanceFaults()
        super().__init__(faults=self.faults, seed=seed, clock=clock)
        self.market = BinanceMarket({s.symbol: s for s in symbols}, seed=seed, live_since_ms=self.now_ms())
        self.rest = RestApi(self.market, self.faults)
        self.limiter = WeightLimiter(self.faults)
        self.connections: set[StreamConnection] = set()
        self._rng = random.Random(seed)
        self._tasks: list[asyncio.Task[None]] = []

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    @property
    def api_url(self) -> str:
        return self.base_url + "/api"

    @property
    def stream_url(self) -> str:
        return f"ws://{self.host}:{self.port}/"

    # --- routes --------------------------------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        for endpoint in self.rest.endpoints():
            app.router.add_get(endpoint.path, self._rest_handler(endpoint))
        app.router.add_get("/ws", self._raw_stream)
        app.router.add_get("/ws/{streams:.*}", self._raw_stream)
        app.router.add_get("/stream", self._combined_stream)
        app.router.add_post("/_sim/drop-streams", self._drop_streams)
        app.router.add_post("/_sim/trades", self._post_trade)

    def server_error(self) -> web.StreamResponse:
        return server_busy().response()

    def _rest_handler(self, endpoint: Endpoint) -> Callable[[web.Request], Any]:
        async def handle(request: web.Request) -> web.Response:
            now = self.clock()
            client = request.remote or "unknown"
            try:
                self._admit(client, endpoint.weight(request.query), now)
            except BinanceError as refused:
                return refused.response(self.limiter.headers(client, now))
            headers = self.limiter.headers(client, now)
            try:
                body = endpoint.answer(request.query, int(now * 1000))
            except BinanceError as error:
                return error.response(headers)
            return web.Response(body=orjson.dumps(body), headers={"Content-Type": JSON, **headers})

        return handle

    def _admit(self, client: str, weight: int, now: float) -> None:
        forced = self.faults.force_status
        if forced == 429:
            raise self.limiter.limit_error(now)
        if forced == 418:
            raise self.limiter.ban_error(now + self.faults.ban_seconds, now)
        self.limiter.admit(client, weight, now)

    def used_weight(self, client: str = "127.0.0.1") -> int:
        return int(self.limiter.headers(client, self.clock())["X-MBX-USED-WEIGHT"])

    def extra_stats(self) -> dict[str, Any]:
        now = self.clock()
        return {"used_weight": {c: int(self.limiter.headers(c, now)["X-MBX-USED-WEIGHT"]) for c in
                                self.limiter.usage}, "stream_connections": len(self.connections)}

    # --- streams -------------------------------------------------------------------------------------

    async def _raw_stream(self, request: web.Request) -> web.StreamResponse:
        streams = streams_of_path(request.match_info.get("streams", ""))
        if streams is None:
            return web.Response(status=400, text="Invalid stream name")
        self.stats["ws"] += 1
        return await serve_connection(request, streams, False, self.faults, self.connections)

    async def _combined_stream(self, request: web.Request) -> web.StreamResponse:
        streams = streams_of_path(request.query.get("streams", ""))
        if streams is None:
            return web.Response(status=400, text="Invalid stream name")
        self.stats["stream"] += 1
        return await serve_connection(request, streams, True, self.faults, self.connections)

    async def drop_streams(self) -> None:
        """Cut every stream connection off abruptly, as a network failure would."""
        for connection in list(self.connections):
            if connection.transport is not None:
                connection.transport.abort()
        self.connections.clear()

    async def _drop_streams(self, request: web.Request) -> web.Response:
        await self.drop_streams()
        return web.json_response({})

    # --- live trades and kline pushes ------------------------------------------------------------------

    async def on_start(self) -> None:
        self._tasks = [asyncio.create_task(self._trade_loop(), name="binance-trades"),
                       asyncio.create_task(self._kline_loop(), name="binance-klines")]

    async def on_stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for connection in list(self.connections):
            await connection.ws.close()

    async def push_trade(self, symbol: str, price: str, quantity: str, buyer_maker: bool = False,
                         time_ms: int | None = None) -> Trade:
        """Record a trade (now, or at `time_ms`, never before the tape's last) and send it to subscribers."""
        when = max(self.now_ms() if time_ms is None else time_ms, self.market.tapes[symbol].last_time_ms)
        trade = self.market.record_trade(symbol, units(price), units(quantity), when, buyer_maker)
        await self._broadcast_trade(trade)
        return trade

    async def _post_trade(self, request: web.Request) -> web.Response:
        body = await request.json()
        trade = await self.push_trade(body["symbol"], body["price"], body["quantity"],
                                      bool(body.get("buyer_maker", False)))
        return web.json_response(trade_payload(trade, trade.time_ms))

    async def _trade_loop(self) -> None:
        while True:
            rate = self.faults.trade_rate
            await asyncio.sleep(1 / rate if rate > 0 else 0.05)
            if rate <= 0:
                continue
            for spec in self.market.symbols.values():
                if self.market.trades(spec):
                    now = max(self.now_ms(), self.market.tapes[spec.symbol].last_time_ms)
                    trade = self.market.next_trade(spec, self._rng, now, rate * 60)
                    await self._broadcast_trade(trade)

    async def _broadcast_trade(self, trade: Trade) -> None:
        stream = trade.symbol.lower() + "@trade"
        payload = trade_payload(trade, self.now_ms())
        for connection in list(self.connections):
            if stream in connection.streams:
                await connection.send(stream, payload)

    async def _kline_loop(self) -> None:
        while True:
            await asyncio.sleep(self.faults.kline_push_interval)
            for connection in list(self.connections):
                for stream in list(connection.streams):
                    await self._push_kline(connection, stream)

    async def _push_kline(self, connection: StreamConnection, stream: str) -> None:
        symbol, _, _ = stream.partition("@")
        spec = self.market.symbols.get(symbol.upper())
        name = kline_interval(stream)
        if spec is None or name is None:
            return
        interval, now = KlineInterval(name), self.now_ms()
        current = interval.floor(now)
        sent = connection.kline_opens.get(stream)
        if sent is not None and sent < current:
            await connection.send(stream, self.kline_payload(spec, interval, sent, now, closed=True))
        connection.kline_opens[stream] = current
        await connection.send(stream, self.kline_payload(spec, interval, current, now, closed=False))

    def kline_payload(self, spec: BinanceSymbol, interval: KlineInterval, open_ms: int, now: int,
                      closed: bool) -> dict[str, Any]:
        found = kline_rows.klines(self.market, spec, interval, open_ms, open_ms, 1, now)
        _, close_ms, row = found[0]
        first_id, last_id = self.market.trade_ids(spec, open_ms, close_ms + 1)
        return {"e": "kline", "E": now, "s": spec.symbol, "k": {
            "t": open_ms, "T": close_ms, "s": spec.symbol, "i": interval.name, "f": first_id, "L": last_id,
            "o": decimal_text(int(row[OPEN])), "c": decimal_text(int(row[CLOSE])),
            "h": decimal_text(int(row[HIGH])), "l": decimal_text(int(row[LOW])),
            "v": decimal_text(int(row[VOLUME])), "n": int(row[TRADES]), "x": closed,
            "q": decimal_text(int(row[QUOTE_VOLUME])), "V": decimal_text(int(row[TAKER_BASE])),
            "Q": decimal_text(int(row[TAKER_QUOTE])), "B": "0"}}


def trade_payload(trade: Trade, event_ms: int) -> dict[str, Any]:
    return {"e": "trade", "E": event_ms, "s": trade.symbol, "t": trade.id, "p": decimal_text(trade.price),
            "q": decimal_text(trade.quantity), "T": trade.time_ms, "m": trade.buyer_maker, "M": True}
