"""WebSocket market streams: `/ws/<stream>[/<stream>...]` (raw payloads) and `/stream?streams=a/b` (combined:
`{"stream": name, "data": payload}`), with the live `SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`,
`SET_PROPERTY` and `GET_PROPERTY` requests.

Rules (Binance's):
- The server pings every `ping_interval` seconds; a connection that has not answered with a pong (or sent
  one unsolicited) for `pong_timeout` seconds is closed. Client pings are answered with pongs.
- A connection is closed after `connection_lifetime` seconds.
- More than `max_messages_per_second` incoming messages in one second closes the connection.
"""

import asyncio
import contextlib
import re
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import WSCloseCode, WSMsgType, web

from simulators.binance.faults import BinanceFaults
from simulators.binance.intervals import INTERVALS

_STREAM = re.compile(r"^[a-z0-9._-]{1,20}@[A-Za-z0-9_@!:+.-]+$")
METHODS = ("SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS", "SET_PROPERTY", "GET_PROPERTY")
MAX_STREAMS = 1024


def kline_interval(stream: str) -> str | None:
    """`btcusdt@kline_1m` -> `1m`."""
    _, _, kind = stream.partition("@")
    if kind.startswith("kline_") and kind[6:] in INTERVALS:
        return kind[6:]
    return None


@dataclass(eq=False)
class StreamConnection:
    ws: web.WebSocketResponse
    transport: Any
    combined: bool
    opened_at: float
    streams: list[str] = field(default_factory=list)
    last_pong: float = 0.0
    recent_messages: deque[float] = field(default_factory=deque)
    kline_opens: dict[str, int] = field(default_factory=dict)  # stream -> open time of the last bar sent

    async def send(self, stream: str, payload: dict[str, Any]) -> None:
        body = {"stream": stream, "data": payload} if self.combined else payload
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.ws.send_str(orjson.dumps(body).decode())

    async def reply(self, body: dict[str, Any]) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.ws.send_str(orjson.dumps(body).decode())

    def subscribe(self, names: list[str]) -> None:
        for name in names:
            if name not in self.streams:
                self.streams.append(name)

    def unsubscribe(self, names: list[str]) -> None:
        self.streams = [s for s in self.streams if s not in names]
        for name in names:
            self.kline_opens.pop(name, None)


def _error(code: int, msg: str, request_id: Any) -> dict[str, Any]:
    return {"error": {"code": code, "msg": msg}, "id": request_id}


class StreamRequests:
    """Answers one connection's JSON requests."""

    def __init__(self, connection: StreamConnection) -> None:
        self.connection = connection

    async def handle(self, text: str) -> None:
        try:
            request = orjson.loads(text)
        except orjson.JSONDecodeError:
            await self.connection.reply(_error(3, "Invalid JSON: expected value at line 1 column 1", None))
            return
        if not isinstance(request, dict):
            await self.connection.reply(_error(2, "Invalid request: expected an object", None))
            return
        await self.connection.reply(self._answer(request))

    def _answer(self, request: dict[str, Any]) -> dict[str, Any]:
        request_id = request.get("id")
        method = request.get("method")
        if not isinstance(request_id, int | str) and request_id is not None:
            return _error(2, "Invalid request: request ID must be an unsigned integer", None)
        if method not in METHODS:
            expected = ", ".join(f"`{m}`" for m in METHODS)
            return _error(2, f"Invalid request: unknown variant `{method}`, expected one of {expected}", request_id)
        handler = getattr(self, "_" + str(method).lower())
        result: dict[str, Any] = handler(request.get("params", []), request_id)
        return result

    def _subscribe(self, params: Any, request_id: Any) -> dict[str, Any]:
        if not _valid_streams(params):
            return _error(2, "Invalid request: invalid stream", request_id)
        if len(set(self.connection.streams) | set(params)) > MAX_STREAMS:
            return _error(2, "Invalid request: too many streams", request_id)
        self.connection.subscribe(params)
        return {"result": None, "id": request_id}

    def _unsubscribe(self, params: Any, request_id: Any) -> dict[str, Any]:
        if not _valid_streams(params):
            return _error(2, "Invalid request: invalid stream", request_id)
        self.connection.unsubscribe(params)
        return {"result": None, "id": request_id}

    def _list_subscriptions(self, params: Any, request_id: Any) -> dict[str, Any]:
        return {"result": list(self.connection.streams), "id": request_id}

    def _set_property(self, params: Any, request_id: Any) -> dict[str, Any]:
        if not (isinstance(params, list) and len(params) == 2 and params[0] == "combined"
                and isinstance(params[1], bool)):
            return _error(1, "Invalid value type: expected Boolean", request_id)
        self.connection.combined = params[1]
        return {"result": None, "id": request_id}

    def _get_property(self, params: Any, request_id: Any) -> dict[str, Any]:
        if params != ["combined"]:
            return _error(0, "Unknown property", request_id)
        return {"result": self.connection.combined, "id": request_id}


def _valid_streams(params: Any) -> bool:
    return isinstance(params, list) and all(isinstance(p, str) and _STREAM.match(p) for p in params)


def streams_of_path(tail: str) -> list[str] | None:
    """The streams named in a URL (`a/b/c`); None when one is malformed."""
    names = [name for name in tail.split("/") if name]
    return names if all(_STREAM.match(name) for name in names) else None


class ConnectionSupervisor:
    """Pings, pong deadline, lifetime and incoming message rate of one connection."""

    def __init__(self, connection: StreamConnection, faults: BinanceFaults) -> None:
        self.connection = connection
        self.faults = faults

    def tick(self) -> float:
        faults = self.faults
        return max(0.01, min(1.0, faults.ping_interval / 4, faults.pong_timeout / 4, faults.connection_lifetime / 4))

    async def run(self) -> None:
        next_ping = time.monotonic() + self.faults.ping_interval
        while not self.connection.ws.closed:
            await asyncio.sleep(self.tick())
            now = time.monotonic()
            if now - self.connection.opened_at >= self.faults.connection_lifetime:
                await self.connection.ws.close(code=WSCloseCode.GOING_AWAY, message=b"connection lifetime")
                return
            if now - self.connection.last_pong > self.faults.pong_timeout:
                await self.connection.ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"pong timeout")
                return
            if now >= next_ping:
                next_ping = now + self.faults.ping_interval
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await self.connection.ws.ping(b"")

    def too_chatty(self) -> bool:
        now = time.monotonic()
        recent = self.connection.recent_messages
        recent.append(now)
        while recent and recent[0] <= now - 1.0:
            recent.popleft()
        return len(recent) > self.faults.max_messages_per_second


async def serve_connection(request: web.Request, streams: list[str], combined: bool, faults: BinanceFaults,
                           connections: set[StreamConnection]) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(autoping=False, max_msg_size=1 << 20)
    await ws.prepare(request)
    now = time.monotonic()
    connection = StreamConnection(ws, request.transport, combined, opened_at=now, last_pong=now)
    connection.subscribe(streams)
    connections.add(connection)
    supervisor = ConnectionSupervisor(connection, faults)
    watch = asyncio.create_task(supervisor.run())
    requests = StreamRequests(connection)
    try:
        async for message in ws:
            if supervisor.too_chatty():
                await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"too many messages")
                break
            if message.type is WSMsgType.TEXT:
                await requests.handle(message.data)
            elif message.type is WSMsgType.PING:
                await ws.pong(message.data)
            elif message.type is WSMsgType.PONG:
                connection.last_pong = time.monotonic()
    finally:
        watch.cancel()
        connections.discard(connection)
    return ws
