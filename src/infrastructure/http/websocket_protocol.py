"""uvicorn's WebSocket protocol with the bounds an ASGI app cannot set itself (`src.app.serve` serves with it):

* **A small kernel send buffer** (`SEND_BUFFER_BYTES`) on WebSocket connections only: a client that stops
  reading makes the app's sends wait after tens of kilobytes instead of the megabytes the kernel would
  otherwise buffer for it (HTTP responses keep the kernel's autotuned buffers).
* **A close that cannot hang**: when the app closes a connection whose writes are stuck (the client does not
  read, so not even the close frame can get through), the connection is aborted at once, which frees what
  is queued for it, instead of lingering until the client reads.
* **Ping floods**: WebSocket pings are answered by the protocol, never seen by the app; a client sending more
  than `PING_BURST` of them faster than `PINGS_PER_S` is disconnected (1008), and pings are not answered
  while the client is not reading our answers.
* **Bounded parsing per turn of the event loop**: what a client sent is parsed `PARSE_SLICE` bytes at a time,
  one slice per turn, and reading stops while more than `MAX_UNPARSED` bytes wait. uvicorn parses a whole
  read (up to 256 KiB: ten thousand tiny frames of a flood, tens of milliseconds) in one go, stalling every
  other request meanwhile.
"""

import contextlib
import socket
from asyncio import BaseTransport
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

SEND_BUFFER_BYTES = 64 * 1024
PINGS_PER_S = 10.0
PING_BURST = 50.0
PARSE_SLICE = 4 * 1024
MAX_UNPARSED = 64 * 1024


class BoundedWebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ping_tokens = PING_BURST
        self._ping_at = self.loop.time()
        self._unparsed = b""
        self._parsing = False
        self._reading_held = False  # reading paused by us (too much unparsed), not by uvicorn

    def connection_made(self, transport: BaseTransport) -> None:
        super().connection_made(transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)

    def data_received(self, data: bytes) -> None:
        self._unparsed += data
        if len(self._unparsed) > MAX_UNPARSED and not self._reading_held:
            self._reading_held = True
            self.transport.pause_reading()
        if not self._parsing:
            self._parsing = True
            self._parse_slice()

    def _parse_slice(self) -> None:
        if self.transport.is_closing():
            self._unparsed, self._parsing = b"", False
            return
        data, self._unparsed = self._unparsed[:PARSE_SLICE], self._unparsed[PARSE_SLICE:]
        super().data_received(data)
        if self._unparsed:
            self.loop.call_soon(self._parse_slice)
            return
        self._parsing = False
        if self._reading_held:
            self._reading_held = False
            if not self.read_paused:  # uvicorn's own pause (the app has messages to take) stays
                self.transport.resume_reading()

    async def send(self, message: Any) -> None:
        if message["type"] == "websocket.close" and self.handshake_complete and not self.writable.is_set():
            self.close_sent = True
            self.transport.abort()  # its writes are stuck: nothing more would get through
            return
        await super().send(message)

    def handle_ping(self) -> None:
        if self.transport.is_closing():
            return
        now = self.loop.time()
        self._ping_tokens = min(PING_BURST, self._ping_tokens + (now - self._ping_at) * PINGS_PER_S)
        self._ping_at = now
        if self._ping_tokens < 1:
            self.conn.fail(1008, "ping flood")
            self.transport.write(b"".join(self.conn.data_to_send()))
            self.close_sent = True
            self.transport.abort()
            return
        self._ping_tokens -= 1
        if self.writable.is_set():
            super().handle_ping()
        else:  # the client does not read our answers: the pong stays unsent (websockets queued it)
            self.conn.data_to_send()
