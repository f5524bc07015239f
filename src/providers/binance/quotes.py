"""Live quotes from Binance's WebSocket market streams, as a `QuoteFeed`.

One combined-stream connection (`/stream?streams=<pair>@trade/...`) carries every subscribed pair's trades.

Rules:
- **Volume.** Binance sends each trade's quantity. The feed keeps, per pair, the total traded since the
  subscription started and hands it on as `QuoteTick.cumulative_volume` (the session-cumulative total the live
  bar aggregator expects): the snapshot taken on subscribing carries 0, each trade adds its quantity.
- **Once each.** Every trade is delivered at most once, in trade-id order: a trade whose id is not above the
  last delivered one is dropped (overlapping connections, a replayed gap, trades before the snapshot).
- **One connection**, so at most `max_streams` pairs (Binance's 1,024); more are refused (`InvalidRequest`).
- **Snapshot.** Subscribing waits for `GET /api/v3/ticker/24hr` (last price, last trade id); trades that arrive
  meanwhile wait and follow it. Pairs that are not trading raise `SymbolNotFound` after the others are added.
- **Ping/pong and liveness.** The server's pings are answered; our own heartbeat pings replace a connection that
  stops answering.
- **24-hour cut.** A connection is renewed after `stream_lifetime_s` (before Binance closes it at 24 hours): the
  new one is opened and read before the old one is closed, so nothing is missed (duplicates are dropped).
- **Reconnect and backfill.** A dropped connection is reopened with exponential backoff and jitter, with every
  stream; then each pair's gap is replayed from `GET /api/v3/aggTrades` from its last delivered trade, and only
  then the trades of the new connection follow (they wait meanwhile). At most `backfill_max_trades` per pair are
  replayed; the rest of a longer gap is skipped. Ticks replayed for bars already closed are ignored by the
  aggregator as stale, and their volume goes to the next bar, as the aggregator's rules say.
"""

import asyncio
import contextlib
import random
import time
from collections.abc import Callable, Iterable
from typing import Any

import aiohttp
import orjson
import structlog

from src.common.errors import InvalidRequest, SymbolNotFound, UpstreamRejected, UpstreamUnavailable
from src.common.ports import QuoteCallback
from src.domain.market_data import QuoteTick, Symbol
from src.providers.binance.config import BinanceConfig
from src.providers.binance.history import pair_of
from src.providers.binance.rest import BinanceRest
from src.providers.binance.symbols import BinanceSymbols
from src.providers.binance.trades import PairState, Trade, agg_trade, snapshot_tick, stream_trade

log = structlog.get_logger("binance.quotes")
TICKERS_PER_REQUEST = 20  # ticker/24hr costs 2 for up to 20 symbols
TICKER_WEIGHT = 2
AGG_TRADES_WEIGHT = 4
AGG_TRADES_PAGE = 1_000


class BinanceQuoteFeed:
    def __init__(self, config: BinanceConfig, rest: BinanceRest, symbols: BinanceSymbols, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self._rest = rest
        self._symbols = symbols
        self._clock = clock
        self._pairs: dict[str, PairState] = {}
        self._callbacks: list[QuoteCallback] = []
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._runner: asyncio.Task[None] | None = None
        self._replies: dict[int, asyncio.Future[Any]] = {}
        self._next_id = 0
        self._last_sent = 0.0
        self._send_lock = asyncio.Lock()
        self._up = asyncio.Event()
        self.reconnect_count = 0
        self.renewals = 0
        self.backfilled = 0  # trades replayed after reconnects

    # --- the QuoteFeed port --------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._ws is not None and not self._ws.closed

    @property
    def subscriptions(self) -> list[Symbol]:
        return [pair.symbol for pair in self._pairs.values()]

    def add_quote_callback(self, callback: QuoteCallback) -> None:
        self._callbacks.append(callback)

    def remove_quote_callback(self, callback: QuoteCallback) -> None:
        with contextlib.suppress(ValueError):
            self._callbacks.remove(callback)

    async def subscribe(self, symbols: Iterable[Symbol]) -> None:
        wanted = list(dict.fromkeys(symbols))
        trading = await self._symbols.trading()
        codes = {s: _code(s) for s in wanted}
        unknown = [str(s) for s, code in codes.items() if code not in trading]
        fresh = [code for code in dict.fromkeys(codes.values()) if code in trading and code not in self._pairs]
        if len(self._pairs) + len(fresh) > self.config.max_streams:
            raise InvalidRequest(f"Binance streams at most {self.config.max_streams} pairs per connection",
                                 field="symbols")
        added = [PairState(trading[code].symbol) for code in fresh if code is not None]
        self._pairs.update((pair.symbol.code, pair) for pair in added)
        try:
            if added:
                await self._start_streams(added)
                await self._snapshot(added)
        except BaseException:
            await self.unsubscribe([pair.symbol for pair in added])
            raise
        if unknown:
            raise SymbolNotFound(f"Binance has no trading pair {', '.join(unknown)}", field="symbol")

    async def unsubscribe(self, symbols: Iterable[Symbol]) -> None:
        gone = [self._pairs.pop(code) for code in {pair_of(s) for s in symbols} if code in self._pairs]
        if gone and self.connected:
            with contextlib.suppress(UpstreamUnavailable):
                await self._request("UNSUBSCRIBE", [p.stream for p in gone])
        if not self._pairs:
            await self._stop_runner()

    async def close(self) -> None:
        await self._stop_runner()
        if self._http is not None:
            await self._http.close()
            self._http = None

    # --- subscribing ---------------------------------------------------------------------------------

    async def _start_streams(self, added: list[PairState]) -> None:
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run(), name="binance-streams")
        try:
            await asyncio.wait_for(self._up.wait(), self.config.request_timeout)
        except TimeoutError:
            return  # the runner keeps trying; the streams are in the URL of its next connection
        streams = [p.stream for p in added]
        for first in range(0, len(streams), 200):
            with contextlib.suppress(UpstreamUnavailable):
                await self._request("SUBSCRIBE", streams[first:first + 200])

    async def _snapshot(self, added: list[PairState]) -> None:
        for first in range(0, len(added), TICKERS_PER_REQUEST):
            chunk = added[first:first + TICKERS_PER_REQUEST]
            names = orjson.dumps([p.symbol.code for p in chunk]).decode()
            tickers = await self._rest.get("/v3/ticker/24hr", {"symbols": names}, TICKER_WEIGHT)
            by_code = {t.get("symbol"): t for t in tickers if isinstance(t, dict)} if isinstance(tickers, list) else {}
            for pair in chunk:
                await self._start_pair(pair, by_code.get(pair.symbol.code))

    async def _start_pair(self, pair: PairState, ticker: dict[str, Any] | None) -> None:
        if ticker is None:
            raise UpstreamRejected(f"Binance sent no ticker for {pair.symbol.code}")
        try:
            pair.last_id, pair.last_time_ms = int(ticker["lastId"]), int(ticker["closeTime"])
        except (KeyError, TypeError, ValueError) as error:
            raise UpstreamRejected(f"Binance sent no usable ticker for {pair.symbol.code}") from error
        tick = snapshot_tick(pair.symbol, ticker)
        if tick is not None:
            await self._deliver(tick)
        await self._release(pair)

    # --- trades --------------------------------------------------------------------------------------

    async def _on_trade(self, pair: PairState, trade: Trade) -> None:
        if pair.waiting is not None:
            pair.waiting.append(trade)
            return
        await self._apply(pair, trade)

    async def _apply(self, pair: PairState, trade: Trade) -> None:
        if trade.id <= pair.last_id or self._pairs.get(pair.symbol.code) is not pair:
            return
        pair.last_id, pair.last_time_ms = trade.id, trade.time_ms
        pair.total += trade.quantity
        await self._deliver(QuoteTick(pair.symbol, trade.time_ms / 1000, trade.price, cumulative_volume=pair.total))

    async def _release(self, pair: PairState) -> None:
        """Deliver the trades that waited, then let the next ones through directly."""
        while pair.waiting:
            await self._apply(pair, pair.waiting.pop(0))
        pair.waiting = None

    async def _deliver(self, tick: QuoteTick) -> None:
        for callback in list(self._callbacks):
            try:
                await callback(tick)
            except Exception:  # one failing consumer never stops the stream
                log.exception("binance_quote_callback_failed", symbol=str(tick.symbol))

    # --- the connection ------------------------------------------------------------------------------

    async def _run(self) -> None:
        """Keep one connection with every stream: renew it before its lifetime ends, reopen it when dropped."""
        reader: asyncio.Task[None] | None = None
        dropped, attempt = False, 0
        while self._pairs:
            try:
                ws = await self._connect()
            except UpstreamUnavailable as error:
                attempt += 1
                log.warning("binance_stream_connect_failed", attempt=attempt, error=str(error))
                await asyncio.sleep(self._backoff(attempt))
                continue
            attempt = 0
            if dropped:
                self._hold_all()
            old, self._ws = self._ws, ws
            reader = asyncio.create_task(self._read(ws), name="binance-stream-reader")
            if old is not None:
                await old.close()  # a renewal: the new connection reads already
            self._up.set()
            if dropped:
                self.reconnect_count += 1
                await self._backfill_all()
            done, _ = await asyncio.wait({reader}, timeout=self.config.stream_lifetime_s)
            dropped = bool(done)
            if dropped:
                self._ws = None
                self._up.clear()
                await asyncio.sleep(self._backoff(1))
            else:
                self.renewals += 1

    async def _connect(self) -> aiohttp.ClientWebSocketResponse:
        if self._http is None:
            self._http = aiohttp.ClientSession()
        url = self.config.stream_url + "stream?streams=" + "/".join(p.stream for p in self._pairs.values())
        try:
            return await self._http.ws_connect(url, heartbeat=self.config.heartbeat_s, autoping=True,
                                               timeout=aiohttp.ClientWSTimeout(ws_close=self.config.request_timeout),
                                               max_msg_size=1 << 22)
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise UpstreamUnavailable(f"Binance stream connection failed: {error!r}") from error

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.config.backoff_cap_s, self.config.backoff_base_s * 2.0 ** (attempt - 1))
        return ceiling * random.uniform(0.5, 1.0)

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type is aiohttp.WSMsgType.TEXT:
                await self._on_message(message.data)
            elif message.type is aiohttp.WSMsgType.ERROR:
                break

    async def _on_message(self, text: str) -> None:
        try:
            body = orjson.loads(text)
        except orjson.JSONDecodeError:
            return
        if isinstance(body, dict) and "id" in body and "stream" not in body:
            self._on_reply(body)
            return
        data = body.get("data") if isinstance(body, dict) else None
        if isinstance(data, dict) and data.get("e") == "trade":
            pair = self._pairs.get(str(data.get("s")))
            trade = stream_trade(data)
            if pair is not None and trade is not None:
                await self._on_trade(pair, trade)

    def _on_reply(self, body: dict[str, Any]) -> None:
        future = self._replies.pop(body["id"], None) if isinstance(body.get("id"), int) else None
        if future is not None and not future.done():
            future.set_result(body)

    async def _request(self, method: str, params: list[str]) -> Any:
        """Send a request on the connection and wait for its answer, no faster than `messages_per_s`."""
        ws = self._ws
        if ws is None or ws.closed:
            raise UpstreamUnavailable("the Binance stream is not connected")
        async with self._send_lock:
            pause = self._last_sent + 1 / self.config.messages_per_s - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            self._next_id += 1
            future = self._replies[self._next_id] = asyncio.get_running_loop().create_future()
            await ws.send_str(orjson.dumps({"method": method, "params": params, "id": self._next_id}).decode())
            self._last_sent = time.monotonic()
        try:
            reply = await asyncio.wait_for(future, self.config.request_timeout)
        except TimeoutError as error:
            raise UpstreamUnavailable(f"Binance did not answer {method} in time") from error
        if reply.get("error"):
            raise UpstreamRejected(f"Binance refused {method}: {reply['error']}")
        return reply.get("result")

    async def _stop_runner(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
        ws, self._ws = self._ws, None
        if ws is not None:
            await ws.close()
        self._up.clear()

    # --- backfill ------------------------------------------------------------------------------------

    def _hold_all(self) -> None:
        for pair in self._pairs.values():
            if pair.waiting is None:
                pair.waiting = []

    async def _backfill_all(self) -> None:
        for pair in list(self._pairs.values()):
            try:
                await self._backfill(pair)
            except (UpstreamUnavailable, UpstreamRejected) as error:
                log.warning("binance_backfill_failed", symbol=pair.symbol.code, error=str(error))
            await self._release(pair)

    async def _backfill(self, pair: PairState) -> None:
        params: dict[str, str | int] = {"symbol": pair.symbol.code, "startTime": pair.last_time_ms,
                                        "limit": AGG_TRADES_PAGE}
        replayed = 0
        while replayed < self.config.backfill_max_trades:
            rows = await self._rest.get("/v3/aggTrades", params, AGG_TRADES_WEIGHT)
            trades = [t for t in map(agg_trade, rows if isinstance(rows, list) else []) if t is not None]
            for trade in trades:
                if trade.id > pair.last_id:
                    await self._apply(pair, trade)
                    replayed += 1
            if len(trades) < AGG_TRADES_PAGE:
                break
            params = {"symbol": pair.symbol.code, "fromId": int(rows[-1]["a"]) + 1, "limit": AGG_TRADES_PAGE}
        self.backfilled += replayed
        if replayed:
            log.info("binance_backfilled", symbol=pair.symbol.code, trades=replayed)


def _code(symbol: Symbol) -> str | None:
    try:
        return pair_of(symbol)
    except SymbolNotFound:
        return None
