"""WebSocket for clients at `/api/v1/ws/quotes`: live quotes and bars pushed as JSON text frames.

Authentication (when the service has it on): the handshake's `Authorization: Bearer` or `X-API-Key`
header, or — browsers cannot set headers — the subprotocols `Sec-WebSocket-Protocol: bearer, <token or API
key>` (the `bearer` subprotocol is then accepted); never a token in the URL, which ends up in logs. A
handshake without any credentials is accepted, and its first message must be
  {"action": "auth", "token": "<access token or API key>"}
answered with `{"type": "authenticated", "user": ..., "role": ...}`; anything else first, a token that does
not hold, or nothing within `WS_AUTH_TIMEOUT_S`, closes it with 4401 (4403: a role without the permission).
Credentials sent in the handshake that do not hold refuse the handshake (403). An authenticated socket is
its principal's: rate limits and connection caps count per principal, and its owner's `alert` frames come
to it (`{"type": "alert", ...}`, see `src.common.alert_shape`).

Protocol (client → server), one JSON object per message (`source` defaults to "tradingview"):
  {"action": "subscribe", "source": "tradingview", "symbols": ["BINANCE:BTCUSDT"], "intervals": ["1m", "5m"]}
  {"action": "unsubscribe", "symbols": ["BINANCE:BTCUSDT"]}           (the symbol entirely)
  {"action": "unsubscribe", "symbols": [...], "intervals": ["5m"]}     (only those bar intervals)
  {"action": "ping"}
A subscribe may opt in to live indicator values with `"indicators": ["rsi:14", "macd"]` (specs among the
LIVE_INDICATORS setting): each time a bar of a subscribed interval closes, the client then gets an
`{"type": "indicator", ...}` frame with those specs' values (coalesced per symbol and interval, like quotes).
`subscribe` subscribes the symbols upstream too (through the Mediator: unknown symbols or stopped quotes
come back as an error frame); without `intervals` the client gets bars at every interval built.

Upstream subscriptions are reference-counted: each connection is a holder (`ws:<n>`) of what it subscribed,
beside the REST API; unsubscribing, or the connection's end (also in the middle of a subscribe), releases
its references, and a symbol nobody holds any more is unsubscribed upstream.

Frames (server → client): `{"type": "quote", ...}`, `{"type": "bar", "closed": false|true, "partial": ...}`
(shapes in `payloads`; `partial` true for a bar that does not cover its whole period), `{"type":
"subscribed"|"unsubscribed"|"pong", ...}`, `{"type": "error", "error": ..., "detail": ...}`. Right after
`subscribed`, one `{"type": "snapshot", "source", "symbol", "quote": {...}|null, "bars": [...]}` per symbol:
its latest quote and its forming bars (at the intervals asked for), so a client has them before the next
tick; what happened while its subscribe was in flight follows (the client is registered before, and its
frames wait for the `subscribed`). A bad message gets an error frame and the connection stays open.

Limits (settings `WS_*`), per client (its principal, or its address without authentication) and per address:
connections (beyond them: accepted, then closed with 1008);
symbols per connection; every message spends the client's HTTP rate-limit bucket (a subscribe one token per
symbol), a message over it is answered with a `RateLimited` error frame and the connection stops reading for
the `retry_after` it names, and three refused within 30 s close it (1008). The receiver yields to the event loop
after each message, so no client's burst (a ping flood) holds it. Slow clients: see `ws_client` (bounded
queues, 1013 when a send stalls for `WS_SEND_TIMEOUT_S`, counted and logged).

Close codes: 1001 server shutting down, 1008 policy (too many connections, rate limit), 1013 too slow, 4401
not authenticated, 4403 not allowed.

The hub is fed by a direct, synchronous listener call from `QuoteService` rather than through the EventBus:
it needs forming bars (not domain events), must never await on the tick path (it only enqueues and wakes
the per-client senders), and the latency budget (tick to client ≤ 20 ms at 1,000 ticks/s) leaves no room
for the bus's sequential awaits and history.
"""

import asyncio
import contextlib
import itertools
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import structlog
from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from src.common import request_scope
from src.common.alert_shape import read_alert_frame
from src.common.errors import ApplicationError, Unauthenticated
from src.common.ports import Authenticator, ClientLimits
from src.domain.errors import DomainError
from src.domain.identity import OPEN_OWNER, Principal
from src.domain.indicators import IndicatorSpec, parse_specs
from src.domain.indicators.events import IndicatorsUpdatedEvent
from src.domain.market_data import Instrument, Interval, QuoteTick, Symbol
from src.domain.realtime.aggregator import BarUpdate
from src.features.quotes.messages import (
    ReleaseQuotesCommand,
    ServeQuoteStreamCommand,
    SubscribeQuotesCommand,
    UnsubscribeQuotesCommand,
)
from src.features.quotes.payloads import bar_payload, indicator_payload, quote_payload
from src.features.quotes.ws_client import HubClient
from src.features.shared.dependencies import MediatorDep
from src.features.shared.fields import DEFAULT_SOURCE

log = structlog.get_logger("quotes.ws")

CLOSE_GOING_AWAY = 1001
CLOSE_POLICY = 1008
CLOSE_TOO_SLOW = 1013
CLOSE_UNAUTHENTICATED = 4401  # the HTTP status, in the range of codes left to applications
CLOSE_FORBIDDEN = 4403
BEARER_SUBPROTOCOL = "bearer"
MAX_MESSAGE_CHARS = 16_384
MAX_SYMBOLS_PER_MESSAGE = 500
MAX_REFUSED = 3  # messages refused by the rate limit within REFUSED_WINDOW_S before the connection is closed
REFUSED_WINDOW_S = 30.0

Send = Callable[[Any], Awaitable[Any]]
Snapshot = Callable[[Instrument], tuple[QuoteTick | None, Sequence[BarUpdate]]]
Request = tuple[str, tuple[Instrument, ...], tuple[Interval, ...] | None, tuple[IndicatorSpec, ...]]
ALL_INTERVALS: frozenset[Interval] = frozenset(Interval)


class _Refused(Exception):
    def __init__(self, reason: str, code: int = CLOSE_UNAUTHENTICATED) -> None:
        super().__init__(reason)
        self.reason, self.code = reason, code


class BadMessage(ValueError):
    """A client frame we cannot act on; answered with an error frame, the connection stays open."""


def _frame(payload: dict[str, Any]) -> str:
    return orjson.dumps(payload).decode()


@dataclass(frozen=True, slots=True)
class HubLimits:
    max_connections_per_client: int = 8
    max_connections_per_address: int = 32
    max_symbols_per_connection: int = 500
    max_queued_per_client: int = 256  # control frames and completed bars waiting to be sent
    send_timeout_s: float = 5.0
    auth_timeout_s: float = 5.0  # a socket without credentials must authenticate within this


class QuoteHub:
    """Fans quotes and bars out to WebSocket clients; a `QuoteListener` of the `QuoteService`."""

    def __init__(self, send: Send, *, snapshot: Snapshot | None = None, client_limits: ClientLimits | None = None,
                 limits: HubLimits = HubLimits(), live_indicators: Sequence[IndicatorSpec] = (),
                 authenticator: Authenticator | None = None) -> None:
        self._send = send  # the Mediator's: a client's subscribe goes upstream through it
        self._authenticator = authenticator  # for sockets that authenticate in their first message
        self._snapshot = snapshot
        self._client_limits = client_limits
        self._limits = limits
        self._live_indicators = frozenset(live_indicators)
        self._clients: set[HubClient] = set()
        self._by_instrument: dict[Instrument, set[HubClient]] = {}
        self._per_client: Counter[str] = Counter()
        self._per_address: Counter[str] = Counter()
        self._ids = itertools.count(1)
        self._background: set[asyncio.Task[Any]] = set()
        self.clients_dropped = 0  # too slow (1013)
        self.connections_refused = 0  # beyond the connection caps (1008)
        self.messages_refused = 0  # over the rate limit

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
                self.kick(client, "too slow: its send queue overflowed")

    def on_indicators_updated(self, event: IndicatorsUpdatedEvent) -> None:
        """An EventBus subscriber: indicator frames to the clients that asked for them."""
        instrument, interval = Instrument(event.key.source, event.key.symbol), event.key.interval
        for client in list(self._by_instrument.get(instrument, ())):
            columns = client.indicators.get(instrument)
            if columns and interval in client.subscriptions.get(instrument, ()):
                values = {column: event.values.get(column) for column in columns}
                frame = _frame(indicator_payload(instrument, interval, event.bar_time, values))
                client.offer(("indicator", instrument, interval), frame)

    def on_alert_frame(self, message: bytes) -> None:
        """A listener of the `ALERT_FRAMES` broadcast: the `alert` frame to each socket of the rule's owner in
        this process (and no one else's), whichever process evaluated the rule."""
        owner, frame = read_alert_frame(message)
        for client in list(self._clients):
            if client.owner == owner and client.kick_reason is None and not client.control(frame):
                self.kick(client, "too slow: its send queue overflowed")

    # --- clients ---------------------------------------------------------------------------------

    def kick(self, client: HubClient, reason: str, code: int = CLOSE_TOO_SLOW) -> None:
        """Stop feeding `client` and end its sender; `serve` closes the socket with `code` and `reason`."""
        if client.kick_reason is not None:
            return
        client.kick_reason, client.kick_code = reason, code
        if code == CLOSE_TOO_SLOW:
            self.clients_dropped += 1
        self._unindex(client)
        if client.sender is not None:
            client.sender.cancel()
        log.warning("quotes_ws_client_dropped", reason=reason, code=code, client=client.client,
                    backlog=client.backlog, sent=client.sent)

    async def close(self) -> None:
        """Close every client (on shutdown)."""
        for client in list(self._clients):
            self.kick(client, "server shutting down", CLOSE_GOING_AWAY)

    async def serve(self, websocket: WebSocket) -> None:
        """Run one client connection to its end."""
        client = self._admit(websocket)
        await websocket.accept(subprotocol=_bearer_offered(websocket))
        if client.kick_reason is not None:  # beyond a connection cap: told why, then closed
            await self._close_socket(client)
            return
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
            self._leave(client)
            self._note_stalled(client)
            await self._close_socket(client)

    def _admit(self, websocket: WebSocket) -> HubClient:
        """The connection's identity (its principal, else its address) and its place under the caps."""
        connection = getattr(websocket, "client", None)
        peer = connection.host if connection is not None else "unknown"
        scope = getattr(websocket, "scope", {})
        address = peer if self._client_limits is None else self._client_limits.client_of(peer, scope.get("headers", []))
        principal: Principal | None = scope.get(request_scope.PRINCIPAL)
        client = HubClient(websocket, holder=f"ws:{next(self._ids)}", client=address, address=address,
                           max_queued=self._limits.max_queued_per_client, send_timeout_s=self._limits.send_timeout_s)
        client.pending = scope.get(request_scope.AUTHENTICATE_IN_BAND)
        if principal is not None:
            client.principal, client.owner, client.client = principal, principal.user_id, principal.rate_key
        elif client.pending is None:  # authentication is off: every socket acts for the open owner
            client.owner = OPEN_OWNER
        limits = self._limits
        if self._per_client[client.client] >= limits.max_connections_per_client:
            self._refuse(client, f"too many connections for this client (at most {limits.max_connections_per_client})")
        elif self._per_address[address] >= limits.max_connections_per_address:
            self._refuse(client, f"too many connections from this address (at most "
                                 f"{limits.max_connections_per_address})")
        else:
            self._per_client[client.client] += 1
            self._per_address[address] += 1
        return client

    def _identify(self, client: HubClient, principal: Principal) -> None:
        """The socket, counted under its address until it authenticated in-band, is `principal`'s from now on."""
        self._per_client[client.client] -= 1
        if self._per_client[client.client] <= 0:
            del self._per_client[client.client]
        client.principal, client.owner, client.client = principal, principal.user_id, principal.rate_key
        self._per_client[client.client] += 1
        cap = self._limits.max_connections_per_client
        if self._per_client[client.client] > cap:
            self._refuse(client, f"too many connections for this client (at most {cap})")

    async def _authenticate(self, client: HubClient) -> bool:
        """For a socket that must authenticate in-band: its first message, within the timeout."""
        permission = client.pending
        if permission is None:
            return True
        try:
            principal = await self._first_message_principal(client)
        except _Refused as refused:
            self.kick(client, refused.reason[:120], refused.code)
            return False
        if principal is None:  # the client left
            return False
        if not principal.can(permission):
            self.kick(client, f"not allowed: this needs the permission to {permission}", CLOSE_FORBIDDEN)
            return False
        client.pending = None
        self._identify(client, principal)
        if client.kick_reason is not None:  # beyond the connection cap of its principal
            return False
        self._control(client, {"type": "authenticated", "user": principal.username, "role": str(principal.role)})
        return True

    async def _first_message_principal(self, client: HubClient) -> Principal | None:
        try:
            async with asyncio.timeout(self._limits.auth_timeout_s):
                message = await client.websocket.receive()
        except TimeoutError:
            raise _Refused("authentication timed out: send an auth message first") from None
        if message["type"] == "websocket.disconnect":
            return None
        token = _auth_token(message.get("text") or "")
        if token is None or self._authenticator is None:
            raise _Refused('authenticate first: {"action": "auth", "token": ...}')
        try:
            return await self._authenticator.authenticate(token)
        except Unauthenticated as refused:
            raise _Refused(f"invalid credentials: {refused}") from None

    def _refuse(self, client: HubClient, reason: str) -> None:
        client.kick_reason, client.kick_code = reason, CLOSE_POLICY
        self.connections_refused += 1
        log.warning("quotes_ws_connection_refused", reason=reason, client=client.client, address=client.address)

    def _leave(self, client: HubClient) -> None:
        self._clients.discard(client)
        self._unindex(client)
        for counter, key in ((self._per_client, client.client), (self._per_address, client.address)):
            counter[key] -= 1
            if counter[key] <= 0:
                del counter[key]
        self._spawn(self._release(client.holder))  # whatever it held, even mid-subscribe

    def _note_stalled(self, client: HubClient) -> None:
        sender = client.sender
        if sender is None or sender.cancelled() or not sender.done() or client.kick_reason is not None:
            return
        if isinstance(sender.exception(), TimeoutError):
            self.kick(client, f"too slow: a send stalled for {self._limits.send_timeout_s:g}s")

    async def _close_socket(self, client: HubClient) -> None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(1.0):
                if client.kick_reason is not None:
                    await client.websocket.close(code=client.kick_code, reason=client.kick_reason)
                else:
                    await client.websocket.close()

    async def _release(self, holder: str) -> None:
        try:
            await self._send(ReleaseQuotesCommand(holder))
        except Exception as error:  # the upstream may be gone; its references are gone regardless
            log.warning("quotes_ws_release_failed", holder=holder, error=f"{type(error).__name__}: {error}")

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(work, name="quotes-ws-release")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # --- messages --------------------------------------------------------------------------------

    async def _receive(self, client: HubClient) -> None:
        with contextlib.suppress(WebSocketDisconnect):
            if not await self._authenticate(client):
                return
            while client.kick_reason is None:
                message = await client.websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                text = message.get("text")
                if text is None and message.get("bytes") is not None:
                    text = message["bytes"].decode("utf-8", "replace")
                await self._handle(client, text or "")
                await asyncio.sleep(0)  # one client's burst of messages never holds the event loop

    async def _handle(self, client: HubClient, text: str) -> None:
        try:
            request = _parse(text)
        except (BadMessage, DomainError) as error:
            if await self._within_rate(client, 1):
                self._error(client, error)
            return
        if not await self._within_rate(client, len(request[1]) if request[0] == "subscribe" else 1):
            return
        try:
            await self._act(client, request)
        except (BadMessage, DomainError, ApplicationError) as error:
            self._error(client, error)

    def _error(self, client: HubClient, error: Exception) -> None:
        self._control(client, {"type": "error", "error": type(error).__name__, "detail": str(error),
                               "field": getattr(error, "field", None)})

    async def _within_rate(self, client: HubClient, cost: int) -> bool:
        """Spend `cost` of the client's rate-limit bucket; over it, say so and stop reading for the wait (its
        next messages wait in the socket); refused `MAX_REFUSED` times within `REFUSED_WINDOW_S`, it goes."""
        wait = 0.0 if self._client_limits is None else await self._client_limits.spend(client.client, cost)
        if not wait:
            return True
        self.messages_refused += 1
        now = asyncio.get_running_loop().time()
        client.refusals = [t for t in client.refusals if now - t < REFUSED_WINDOW_S] + [now]
        if len(client.refusals) >= MAX_REFUSED:
            self.kick(client, "rate limit exceeded", CLOSE_POLICY)
            return False
        self._control(client, {"type": "error", "error": "RateLimited", "retry_after": wait,
                               "detail": f"rate limit exceeded: retry in {wait:g}s"})
        await asyncio.sleep(wait)
        return False

    async def _act(self, client: HubClient, request: Request) -> None:
        action, symbols, intervals, indicators = request
        if action == "ping":
            self._control(client, {"type": "pong"})
        elif action == "subscribe":
            await self._subscribe(client, symbols, intervals, indicators)
        else:
            await self._unsubscribe(client, symbols, intervals)
            self._control(client, {"type": "unsubscribed", "source": symbols[0].source,
                                   "symbols": [s.symbol.ticker for s in symbols],
                                   "intervals": None if intervals is None else [i.code for i in intervals]})

    def _control(self, client: HubClient, payload: dict[str, Any]) -> None:
        if not client.control(_frame(payload)):
            self.kick(client, "too slow: its send queue overflowed")

    async def _subscribe(self, client: HubClient, symbols: tuple[Instrument, ...],
                         intervals: tuple[Interval, ...] | None, indicators: tuple[IndicatorSpec, ...]) -> None:
        self._check_live(indicators)
        new = [s for s in symbols if s not in client.subscriptions]
        cap = self._limits.max_symbols_per_connection
        if len(client.subscriptions) + len(new) > cap:
            raise BadMessage(f"at most {cap} symbols per connection")
        self._register(client, symbols, intervals)  # first: what closes while it is in flight is not missed
        client.pause()  # ... and waits until `subscribed` is sent
        try:
            await self._send(SubscribeQuotesCommand(symbols, intervals or (), holder=client.holder))
        except (DomainError, ApplicationError):  # nothing of it is subscribed for this client
            self._unregister(client, new)
            if new:
                await self._send(UnsubscribeQuotesCommand(tuple(new), holder=client.holder))
            raise
        finally:
            client.resume()
        self._ask_indicators(client, symbols, indicators)
        self._control(client, {"type": "subscribed", "source": symbols[0].source,
                               "symbols": [s.symbol.ticker for s in symbols],
                               "intervals": None if intervals is None else [i.code for i in intervals],
                               **({"indicators": [s.text for s in indicators]} if indicators else {})})
        for symbol in symbols:
            self._send_snapshot(client, symbol)

    def _register(self, client: HubClient, symbols: Sequence[Instrument],
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
        self._control(client, {
            "type": "snapshot", "source": instrument.source, "symbol": instrument.symbol.ticker,
            "quote": None if tick is None else quote_payload(instrument, tick),
            "bars": [bar_payload(instrument, u.bar, closed=False) for u in forming if u.bar.interval in wanted],
        })

    async def _unsubscribe(self, client: HubClient, symbols: Sequence[Instrument],
                           intervals: tuple[Interval, ...] | None) -> None:
        known = [symbol for symbol in symbols if symbol in client.subscriptions]
        if intervals is not None:
            for symbol in known:
                client.subscriptions[symbol] = client.subscriptions[symbol] - frozenset(intervals)
            return  # still subscribed to the quotes
        self._unregister(client, known)
        if known:
            await self._send(UnsubscribeQuotesCommand(tuple(known), holder=client.holder))

    def _unregister(self, client: HubClient, symbols: Sequence[Instrument]) -> None:
        for symbol in symbols:
            client.subscriptions.pop(symbol, None)
            client.indicators.pop(symbol, None)
            self._drop_index(client, symbol)

    def _unindex(self, client: HubClient) -> None:
        for symbol in list(client.subscriptions):
            self._drop_index(client, symbol)

    def _drop_index(self, client: HubClient, symbol: Instrument) -> None:
        clients = self._by_instrument.get(symbol)
        if clients is not None:
            clients.discard(client)
            if not clients:
                del self._by_instrument[symbol]


_UNKNOWN_ACTIONS = {"auth": "already authenticated (or authentication is off): 'auth' goes first, once"}


def _parse(text: str) -> Request:
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
        raise BadMessage(_UNKNOWN_ACTIONS.get(str(action), "'action' must be 'subscribe', 'unsubscribe' or 'ping'"))
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


def _auth_token(text: str) -> str | None:
    """The token of an `{"action": "auth", "token": ...}` message, or None for anything else."""
    if len(text) > MAX_MESSAGE_CHARS:
        return None
    try:
        message = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(message, dict) or message.get("action") != "auth":
        return None
    token = message.get("token")
    return token if isinstance(token, str) and token else None


def _bearer_offered(websocket: WebSocket) -> str | None:
    """Accept the `bearer` subprotocol when the client offered it (with its token): a browser fails a
    connection whose server picks none of the subprotocols it offered."""
    offered = getattr(websocket, "scope", {}).get("subprotocols", [])
    return BEARER_SUBPROTOCOL if offered and offered[0].lower() == BEARER_SUBPROTOCOL else None


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
