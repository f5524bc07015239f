"""One WebSocket connection to TradingView shared by every chart and quote session.

A supervisor task connects, authenticates, restores registered sessions and runs the reader loop; when the
socket closes or goes silent for longer than `idle_timeout` (the watchdog) it reconnects with exponential
backoff and jitter. Sessions register a handler under their session id and receive their messages.
"""

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import aiohttp
import structlog

from src.common.correlation import spawn_detached
from src.common.errors import UpstreamRejected, UpstreamUnavailable
from src.providers.tradingview.framing import FrameError, decode_frames, encode_frame, is_heartbeat
from src.providers.tradingview.messages import (
    FATAL_PROTOCOL_REASONS,
    Message,
    MessageError,
    as_message,
    decode_payload,
    request_frame,
)

log = structlog.get_logger("tradingview.connection")


class SessionHandler(Protocol):
    def on_message(self, message: Message) -> None: ...

    def on_connection_lost(self, error: Exception) -> None: ...

    def restore_frames(self) -> list[str]:
        """Frames that recreate this session on a fresh connection ([] for short-lived sessions)."""
        ...


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    url: str
    headers: dict[str, str]
    connect_timeout: float = 10.0
    idle_timeout: float = 30.0  # watchdog: TradingView heartbeats about every 10 s
    backoff_base: float = 1.0
    backoff_cap: float = 60.0
    locale: tuple[str, str] = ("en", "US")


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Exponential delay for reconnect `attempt` (0-based), with jitter in [50 %, 100 %]."""
    ceiling = min(cap, base * 2 ** min(attempt, 32))
    jitter: float = (rng or random).random()
    delay: float = ceiling * (0.5 + 0.5 * jitter)
    return delay


class TradingViewConnection:
    def __init__(
        self,
        settings: ConnectionSettings,
        http: aiohttp.ClientSession,
        token_provider: Callable[[], Awaitable[str]],
        on_protocol_error: Callable[[str], None] | None = None,
    ) -> None:
        self._settings = settings
        self._http = http
        self._token_provider = token_provider
        self._on_protocol_error = on_protocol_error
        self._handlers: dict[str, SessionHandler] = {}
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._send_lock = asyncio.Lock()
        self._waiters: list[asyncio.Future[None]] = []
        self._supervisor: asyncio.Task[None] | None = None
        self._closing = False
        self.reconnect_count = 0
        self.hello: dict[str, object] | None = None
        self.last_received = 0.0  # monotonic time of the last message
        self.heartbeats_echoed = 0

    @property
    def connected(self) -> bool:
        return self._ws is not None and not self._ws.closed

    def register(self, session: str, handler: SessionHandler) -> None:
        self._handlers[session] = handler

    def is_registered(self, session: str) -> bool:
        return session in self._handlers

    def unregister(self, session: str) -> None:
        self._handlers.pop(session, None)

    def start(self) -> None:
        if self._supervisor is None or self._supervisor.done():
            self._closing = False
            self._supervisor = spawn_detached(self._supervise(), name="tradingview-connection")

    async def wait_ready(self, within: float) -> None:
        """Return once authenticated; UpstreamUnavailable if no connection comes up within `within` seconds."""
        if self.connected:
            return
        self.start()
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(waiter, within)
        except TimeoutError:
            raise UpstreamUnavailable(f"no TradingView connection within {within:g}s") from None
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    async def send(self, *frames: str, within: float) -> None:
        await self.wait_ready(within)
        ws = self._ws
        if ws is None:
            raise UpstreamUnavailable("TradingView connection lost")
        try:
            async with self._send_lock:  # frames of one request go out in one message, as the web app does
                await ws.send_str("".join(frames))
        except (ConnectionError, aiohttp.ClientError, RuntimeError) as exc:
            raise UpstreamUnavailable(f"sending to TradingView failed: {exc}") from exc

    async def close(self) -> None:
        self._closing = True
        if self._ws is not None:
            await self._ws.close()
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        self._fail_waiters(UpstreamUnavailable("TradingView client closed"))

    async def drop(self) -> None:
        """Close the socket as if the network failed; the supervisor reconnects."""
        if self._ws is not None:
            await self._ws.close()

    # --- supervisor ----------------------------------------------------------------------------------

    async def _supervise(self) -> None:
        attempt = 0
        first = True
        while not self._closing:
            try:
                ws = await self._open()
            except UpstreamRejected as exc:
                self._fail_waiters(exc)
                return  # a rejected token will not get better by retrying; the next request restarts
            except (aiohttp.ClientError, OSError, TimeoutError, UpstreamUnavailable) as exc:
                log.warning("tradingview_connect_failed", error=str(exc), attempt=attempt)
                self._fail_waiters(UpstreamUnavailable(f"cannot connect to TradingView: {exc}"))
                await asyncio.sleep(self._delay(attempt))
                attempt += 1
                continue
            if not first:
                self.reconnect_count += 1
            first, attempt = False, 0
            rejected = await self._run(ws)
            if rejected or self._closing:
                return
            await asyncio.sleep(self._delay(attempt))
            attempt += 1

    def _delay(self, attempt: int) -> float:
        return backoff_delay(attempt, self._settings.backoff_base, self._settings.backoff_cap)

    async def _open(self) -> aiohttp.ClientWebSocketResponse:
        s = self._settings
        token = await self._token_provider()
        ws = await asyncio.wait_for(
            self._http.ws_connect(s.url, headers=s.headers, autoping=True, max_msg_size=0),
            s.connect_timeout,
        )
        frames = [request_frame("set_auth_token", token), request_frame("set_locale", *s.locale)]
        for handler in list(self._handlers.values()):
            frames.extend(handler.restore_frames())
        try:
            for frame in frames:
                await ws.send_str(frame)
        except (ConnectionError, aiohttp.ClientError, RuntimeError) as exc:
            await ws.close()
            raise UpstreamUnavailable(f"connection closed during setup: {exc}") from exc
        self._ws = ws
        self.last_received = time.monotonic()
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        return ws

    async def _run(self, ws: aiohttp.ClientWebSocketResponse) -> bool:
        """Read until the socket ends; True if the server rejected us (protocol_error)."""
        rejected: str | None = None
        try:
            while rejected is None:
                try:
                    msg = await ws.receive(timeout=self._settings.idle_timeout)
                except TimeoutError:
                    log.warning("tradingview_watchdog_silence", seconds=self._settings.idle_timeout)
                    break
                if msg.type is aiohttp.WSMsgType.TEXT:
                    rejected = await self._on_text(ws, msg.data)
                elif msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING,
                                  aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                    break
        finally:
            self._ws = None
            await ws.close()
        error: Exception = (UpstreamRejected(f"TradingView protocol_error: {rejected}") if rejected
                            else UpstreamUnavailable("TradingView connection lost"))
        for handler in list(self._handlers.values()):
            handler.on_connection_lost(error)
        return rejected is not None and rejected in FATAL_PROTOCOL_REASONS

    async def _on_text(self, ws: aiohttp.ClientWebSocketResponse, data: str) -> str | None:
        self.last_received = time.monotonic()
        try:
            payloads = decode_frames(data)
        except FrameError as exc:
            log.warning("tradingview_bad_frame", error=str(exc))
            return None
        for payload in payloads:
            if is_heartbeat(payload):
                async with self._send_lock:
                    await ws.send_str(encode_frame(payload))
                self.heartbeats_echoed += 1
                continue
            try:
                message = as_message(decode_payload(payload))
            except MessageError as exc:
                log.warning("tradingview_bad_message", error=str(exc))
                continue
            if message is None:
                self.hello = decode_payload(payload)
            elif message.method == "protocol_error":
                reason = str(message.params[0]) if message.params else "protocol error"
                log.warning("tradingview_protocol_error", reason=reason)
                if self._on_protocol_error is not None:
                    self._on_protocol_error(reason)
                return reason
            else:
                handler = self._handlers.get(message.session or "")
                if handler is not None:
                    handler.on_message(message)
        return None

    def _fail_waiters(self, error: Exception) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(error)
        self._waiters.clear()
