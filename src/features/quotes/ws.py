"""WebSocket for clients at `/api/v1/ws/quotes`: live quotes and bars pushed as JSON text frames.

Protocol (client → server), one JSON object per message (`source` defaults to "tradingview"):
  {"action": "subscribe", "source": "tradingview", "symbols": ["BINANCE:BTCUSDT"], "intervals": ["1m", "5m"]}
  {"action": "unsubscribe", "symbols": ["BINANCE:BTCUSDT"]}           (the symbol entirely)
  {"action": "unsubscribe", "symbols": [...], "intervals": ["5m"]}     (only those bar intervals)
  {"action": "ping"}
A subscribe may opt in to live indicator values with `"indicators": ["rsi:14", "macd"]` (specs among the
LIVE_INDICATORS setting): each time a bar of a subscribed interval closes, the client then gets an
`{"type": "indicator", ...}` frame with those specs' values (coalesced per symbol and interval, like quotes).
`subscribe` subscribes the symbols upstream too (through the Mediator: unknown symbols or stopped quotes
come back as an error frame); without `intervals` the client gets bars at every interval built. Upstream
subscriptions are owned by the REST API: a client leaving never unsubscribes upstream.

Frames (server → client): `{"type": "quote", ...}`, `{"type": "bar", "closed": false|true, "partial": ...}`
(shapes in `payloads`; `partial` true for a bar that does not cover its whole period), `{"type":
"subscribed"|"unsubscribed"|"pong", ...}`, `{"type": "error", "error": ..., "detail": ...}`. Right after
`subscribed`, one `{"type": "snapshot", "source", "symbol", "quote": {...}|null, "bars": [...]}` per symbol:
its latest quote and its forming bars (at the intervals asked for), so a client has them before the next
tick. A bad message gets an error frame and the connection stays open.

Slow clients: each client has its own sender task and queue, so no client ever waits for another.
Quotes and forming bars are coalesced per (kind, symbol, interval): a client that falls behind gets the
newest value of each, never a backlog. Completed bars (`closed: true`) are never coalesced: they wait in a
bounded deque, and a client that lets it overflow (or whose single send stalls for `send_timeout_s`) is
disconnected with close code 1013 (try again later) and a reason.

The hub is fed by a direct, synchronous listener call from `QuoteService` rather than through the EventBus:
it needs forming bars (not domain events), must never await on the tick path (it only enqueues and wakes
the per-client senders), and the latency budget (tick to client ≤ 20 ms at 1,000 ticks/s) leaves no room
for the bus's sequential awaits and history.
"""

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import orjson
import structlog
from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from src.common.errors import ApplicationError
from src.domain.errors import DomainError
from src.domain.indicators import IndicatorSpec, parse_specs
from src.domain.indicators.events import IndicatorsUpdatedEvent
from src.domain.market_data import Instrument, Interval, QuoteTick, Symbol
from src.domain.realtime.aggregator import BarUpdate
from src.features.quotes.messages import ServeQuoteStreamCommand, SubscribeQuotesCommand
from src.features.quotes.payloads import bar_payload, indicator_payload, quote_payload
from src.features.shared.dependencies import MediatorDep
from src.features.shared.fields import DEFAULT_SOURCE

log = structlog.get_logger("quotes.ws")

CLOSE_TOO_SLOW = 1013
CLOSE_GOING_AWAY = 1001
MAX_MESSAGE_CHARS = 16_384
MAX_SYMBOLS_PER_MESSAGE = 500

Send = Callable[[Any], Awaitable[Any]]
Snapshot = Callable[[Instrument], tuple[QuoteTick | None, Sequence[BarUpdate]]]
FrameKey = tuple[str, Instrument, Interval | None]
ALL_INTERVALS: frozenset[Interval] = frozenset(Interval)


class BadMessage(ValueError):
    """A client frame we cannot act on; answered with an error frame, the connection stays open."""


def _frame(payload: dict[str, Any]) -> str:
    return orjson.dumps(payload).decode()


class HubClient:
    """One connected client: its subscriptions, its send queues and its sender task."""

    def __init__(self, websocket: WebSocket, *, max_closed: int, send_timeout_s: float,
                 min_interval_s: float) -> None:
        self.websocket = websocket
        self.subscriptions: dict[Instrument, frozenset[Interval]] = {}
        self.indicators: dict[Instrument, tuple[str, ...]] = {}  # output columns asked for, per symbol
        self._coalesced: dict[FrameKey, str] = {}
        self._closed: deque[str] = deque()
        self._control: deque[str] = deque()
        self._max_closed = max_closed
        self._send_timeout_s = send_timeout_s
        self._min_interval_s = min_interval_s
        self._wake = asyncio.Event()
        self.sender: asyncio.Task[None] | None = None
        self.kick_reason: str | None = None
        self.sent = 0
        self.coalesced = 0  # frames replaced by a newer one before they were sent

    # --- producers (synchronous, never block) ----------------------------------------------------

    def offer(self, key: FrameKey, frame: str) -> None:
        if key in self._coalesced:
            self.coalesced += 1
        self._coalesced[key] = frame
        self._wake.set()

    def offer_closed(self, key: FrameKey, frame: str) -> bool:
        """Queue a completed bar; False when the bounded queue overflowed (the client must go)."""
        self._coalesced.pop(key, None)  # a forming frame of this key is superseded by the closed bar
        if len(self._closed) >= self._max_closed:
            return False
        self._closed.append(frame)
        self._wake.set()
        return True

    def control(self, frame: str) -> None:
        self._control.append(frame)
        self._wake.set()

    @property
    def backlog(self) -> int:
        return len(self._coalesced) + len(self._closed) + len(self._control)

    # --- the sender ------------------------------------------------------------------------------

    def _next(self) -> str | None:
        if self._control:
            return self._control.popleft()
        if self._closed:
            return self._closed.popleft()
        if self._coalesced:
            key = next(iter(self._coalesced))
            return self._coalesced.pop(key)
        return None

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            started = loop.time()
            while (frame := self._next()) is not None:
                async with asyncio.timeout(self._send_timeout_s):
                    await self.websocket.send_text(frame)
                self.sent += 1
            if self._min_interval_s > 0:  # per-client throttle: later updates coalesce meanwhile
                await asyncio.sleep(max(0.0, self._min_interval_s - (loop.time() - started)))


class QuoteHub:
    """Fans quotes and bars out to WebSocket clients; a `QuoteListener` of the `QuoteService`."""

    def __init__(self, send: Send, *, snapshot: Snapshot | None = None, max_closed_per_client: int = 256,
                 send_timeout_s: float = 5.0, min_interval_s: float = 0.0,
                 live_indicators: Sequence[IndicatorSpec] = ()) -> None:
        self._send = send  # the Mediator's: a client's subscribe goes upstream through it
        self._snapshot = snapshot
        self._live_indicators = frozenset(live_indicators)
        self._max_closed = max_closed_per_client
        self._send_timeout_s = send_timeout_s
        self._min_interval_s = min_interval_s
        self._clients: set[HubClient] = set()
        self._by_instrument: dict[Instrument, set[HubClient]] = {}
        self.clients_dropped = 0

    @property
    def clients(self) -> list[HubClient]:
        return list(self._clients)

    # --- QuoteListener ---------------------------------------------------------------------------

    def wants(self, instrument: Instrument) -> bool:
        return instrument in self._by_instrument

    def on_quote(self, instrument: Instrument, tick: QuoteTick, forming: Sequence[BarUpdate]) -> None:
        clients = self._by_instrument.get(instrument)
        if not clients:
            return
        quote = _frame(quote_payload(instrument, tick))
        bars: dict[Interval, str] = {}
        for client in clients:
            client.offer(("quote", instrument, None), quote)
            wanted = client.subscriptions.get(instrument, ALL_INTERVALS)
            for update in forming:
                interval = update.bar.interval
                if interval in wanted:
                    frame = bars.get(interval)
                    if frame is None:
                        frame = bars[interval] = _frame(bar_payload(instrument, update.bar, closed=False))
                    client.offer(("bar", instrument, interval), frame)

    def on_bar_closed(self, update: BarUpdate) -> None:
        clients = self._by_instrument.get(update.instrument)
        if not clients:
            return
        interval = update.bar.interval
        frame = _frame(bar_payload(update.instrument, update.bar, closed=True))
        for client in list(clients):
            wanted = interval in client.subscriptions.get(update.instrument, ())
            if wanted and not client.offer_closed(("bar", update.instrument, interval), frame):
                self.kick(client, "too slow: completed-bar queue overflowed")

    def on_indicators_updated(self, event: IndicatorsUpdatedEvent) -> None:
        """An EventBus subscriber: indicator frames to the clients that asked for them."""
        instrument, interval = Instrument(event.key.source, event.key.symbol), event.key.interval
        for client in list(self._by_instrument.get(instrument, ())):
            columns = client.indicators.get(instrument)
            if columns and interval in client.subscriptions.get(instrument, ()):
                values = {column: event.values.get(column) for column in columns}
                frame = _frame(indicator_payload(instrument, interval, event.bar_time, values))
                client.offer(("indicator", instrument, interval), frame)

    # --- clients ---------------------------------------------------------------------------------

    def kick(self, client: HubClient, reason: str) -> None:
        """Stop feeding `client` and end its sender; `serve` closes the socket with 1013 and `reason`."""
        if client.kick_reason is not None:
            return
        client.kick_reason = reason
        self.clients_dropped += 1
        self._unindex(client)
        if client.sender is not None:
            client.sender.cancel()
        log.warning("quotes_ws_client_dropped", reason=reason, backlog=client.backlog)

    async def close(self) -> None:
        """Close every client (on shutdown)."""
        for client in list(self._clients):
            self.kick(client, "server shutting down")

    async def serve(self, websocket: WebSocket) -> None:
        """Run one client connection to its end."""
        await websocket.accept()
        client = HubClient(websocket, max_closed=self._max_closed, send_timeout_s=self._send_timeout_s,
                           min_interval_s=self._min_interval_s)
        self._clients.add(client)
        client.sender = asyncio.create_task(client.run(), name="quotes-ws-sender")
        receiver = asyncio.create_task(self._receive(client), name="quotes-ws-receiver")
        try:
            await asyncio.wait({client.sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (receiver, client.sender):
                task.cancel()
            for task in (receiver, client.sender):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            self._clients.discard(client)
            self._unindex(client)
            await self._close_socket(client)

    async def _close_socket(self, client: HubClient) -> None:
        if client.sender is not None and not client.sender.cancelled() and client.kick_reason is None:
            error = client.sender.exception() if client.sender.done() else None
            if isinstance(error, TimeoutError):
                client.kick_reason = f"too slow: a send stalled for {self._send_timeout_s:g}s"
                self.clients_dropped += 1
        code = CLOSE_GOING_AWAY if client.kick_reason == "server shutting down" else CLOSE_TOO_SLOW
        with contextlib.suppress(Exception):
            async with asyncio.timeout(1.0):
                if client.kick_reason is not None:
                    await client.websocket.close(code=code, reason=client.kick_reason)
                else:
                    await client.websocket.close()

    async def _receive(self, client: HubClient) -> None:
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                message = await client.websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                text = message.get("text")
                if text is None and message.get("bytes") is not None:
                    text = message["bytes"].decode("utf-8", "replace")
                await self._handle(client, text or "")

    async def _handle(self, client: HubClient, text: str) -> None:
        try:
            action, symbols, intervals, indicators = _parse(text)
            if action == "ping":
                client.control(_frame({"type": "pong"}))
            elif action == "subscribe":
                self._check_live(indicators)
                await self._send(SubscribeQuotesCommand(symbols, intervals or ()))
                self._subscribe(client, symbols, intervals)
                self._ask_indicators(client, symbols, indicators)
                client.control(_frame({"type": "subscribed", "source": symbols[0].source,
                                       "symbols": [s.symbol.ticker for s in symbols],
                                       "intervals": None if intervals is None else [i.code for i in intervals],
                                       **({"indicators": [s.text for s in indicators]} if indicators else {})}))
                for symbol in symbols:
                    self._send_snapshot(client, symbol)
            else:
                self._unsubscribe(client, symbols, intervals)
                client.control(_frame({"type": "unsubscribed", "source": symbols[0].source,
                                       "symbols": [s.symbol.ticker for s in symbols],
                                       "intervals": None if intervals is None else [i.code for i in intervals]}))
        except (BadMessage, DomainError, ApplicationError) as error:
            client.control(_frame({"type": "error", "error": type(error).__name__, "detail": str(error),
                                   "field": getattr(error, "field", None)}))

    def _subscribe(self, client: HubClient, symbols: Sequence[Instrument],
                   intervals: tuple[Interval, ...] | None) -> None:
        for symbol in symbols:
            wanted = ALL_INTERVALS if intervals is None else frozenset(intervals)
            if symbol in client.subscriptions and intervals is not None:
                current = client.subscriptions[symbol]
                wanted = current if current == ALL_INTERVALS else current | wanted
            client.subscriptions[symbol] = wanted
            if client.kick_reason is None:
                self._by_instrument.setdefault(symbol, set()).add(client)

    def _check_live(self, indicators: tuple[IndicatorSpec, ...]) -> None:
        missing = [spec.text for spec in indicators if spec not in self._live_indicators]
        if missing:
            live = ", ".join(spec.text for spec in self._live_indicators) or "none"
            raise BadMessage(f"not computed live: {', '.join(missing)} (LIVE_INDICATORS: {live})")

    @staticmethod
    def _ask_indicators(client: HubClient, symbols: Sequence[Instrument], specs: tuple[IndicatorSpec, ...]) -> None:
        columns = tuple(column for spec in specs for column in spec.columns)
        for symbol in symbols if columns else ():
            client.indicators[symbol] = tuple(dict.fromkeys((*client.indicators.get(symbol, ()), *columns)))

    def _send_snapshot(self, client: HubClient, instrument: Instrument) -> None:
        if self._snapshot is None:
            return
        tick, forming = self._snapshot(instrument)
        wanted = client.subscriptions.get(instrument, ALL_INTERVALS)
        client.control(_frame({
            "type": "snapshot", "source": instrument.source, "symbol": instrument.symbol.ticker,
            "quote": None if tick is None else quote_payload(instrument, tick),
            "bars": [bar_payload(instrument, u.bar, closed=False) for u in forming if u.bar.interval in wanted],
        }))

    def _unsubscribe(self, client: HubClient, symbols: Sequence[Instrument],
                     intervals: tuple[Interval, ...] | None) -> None:
        for symbol in symbols:
            if symbol not in client.subscriptions:
                continue
            if intervals is not None:
                client.subscriptions[symbol] = client.subscriptions[symbol] - frozenset(intervals)
                continue  # still subscribed to the quotes
            del client.subscriptions[symbol]
            client.indicators.pop(symbol, None)
            clients = self._by_instrument.get(symbol)
            if clients is not None:
                clients.discard(client)
                if not clients:
                    del self._by_instrument[symbol]

    def _unindex(self, client: HubClient) -> None:
        for symbol in list(client.subscriptions):
            clients = self._by_instrument.get(symbol)
            if clients is not None:
                clients.discard(client)
                if not clients:
                    del self._by_instrument[symbol]


def _parse(text: str) -> tuple[str, tuple[Instrument, ...], tuple[Interval, ...] | None, tuple[IndicatorSpec, ...]]:
    if len(text) > MAX_MESSAGE_CHARS:
        raise BadMessage(f"message longer than {MAX_MESSAGE_CHARS} characters")
    try:
        message = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise BadMessage(f"not JSON: {error}") from error
    if not isinstance(message, dict):
        raise BadMessage("expected a JSON object with an 'action'")
    action = message.get("action")
    if action == "ping":
        return "ping", (), None, ()
    if action not in ("subscribe", "unsubscribe"):
        raise BadMessage("'action' must be 'subscribe', 'unsubscribe' or 'ping'")
    symbols = message.get("symbols")
    if (not isinstance(symbols, list) or not symbols or len(symbols) > MAX_SYMBOLS_PER_MESSAGE
            or not all(isinstance(s, str) for s in symbols)):
        raise BadMessage(f"'symbols' must be a list of 1..{MAX_SYMBOLS_PER_MESSAGE} 'EXCHANGE:CODE' strings")
    raw_intervals = message.get("intervals")
    intervals: tuple[Interval, ...] | None = None
    if raw_intervals is not None:
        if not isinstance(raw_intervals, list) or not all(isinstance(i, str) for i in raw_intervals):
            raise BadMessage("'intervals' must be a list of interval codes such as '1m'")
        intervals = tuple(dict.fromkeys(Interval.parse(i) for i in raw_intervals))
    source = message.get("source", DEFAULT_SOURCE)
    if not isinstance(source, str):
        raise BadMessage("'source' must be a provider id such as 'tradingview'")
    instruments = tuple(dict.fromkeys(Instrument(source, Symbol.parse(s)) for s in symbols))
    return action, instruments, intervals, _indicators(message.get("indicators"))


def _indicators(raw: object) -> tuple[IndicatorSpec, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(spec, str) for spec in raw):
        raise BadMessage("'indicators' must be a list of indicator specs such as 'rsi:14'")
    return parse_specs(raw)


router = APIRouter(tags=["quotes"])


@router.websocket("/api/v1/ws/quotes")
async def quotes_socket(websocket: WebSocket, mediator: MediatorDep) -> None:
    await mediator.send(ServeQuoteStreamCommand(websocket))
