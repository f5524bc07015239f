"""The long-lived quote session: subscriptions that survive reconnects, partial `qsd` updates merged into
full quotes, delivered as `QuoteTick`s to async callbacks and to `QuoteStream` iterators."""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import structlog

from src.common.correlation import spawn_detached
from src.common.errors import SymbolNotFound
from src.domain.errors import DomainError
from src.domain.market_data import QuoteTick, Symbol
from src.providers.tradingview.messages import QUOTE_FIELDS, Message, request_frame, session_id
from src.providers.tradingview.parsing import QuoteBook, quote_tick

log = structlog.get_logger("tradingview.quotes")

QuoteCallback = Callable[[QuoteTick], Awaitable[None]]


class QuoteStream:
    """Async iterator of ticks; registered from creation, so no tick is missed before iteration starts.
    When the consumer falls `maxsize` behind, the oldest ticks are dropped (counted in `dropped`)."""

    def __init__(self, owner: "QuoteSession", maxsize: int) -> None:
        self._owner = owner
        self._queue: asyncio.Queue[QuoteTick] = asyncio.Queue(maxsize)
        self.dropped = 0

    def put(self, tick: QuoteTick) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(tick)

    def __aiter__(self) -> "QuoteStream":
        return self

    async def __anext__(self) -> QuoteTick:
        return await self._queue.get()

    def close(self) -> None:
        self._owner.streams.discard(self)

    async def __aenter__(self) -> "QuoteStream":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class QuoteSession:
    def __init__(self, fields: Iterable[str] = QUOTE_FIELDS) -> None:
        self.id = session_id("qs")
        self.fields = tuple(fields)
        self.symbols: dict[str, Symbol] = {}  # keyed by the exact string sent to the server
        self.book = QuoteBook()
        self.errors: dict[str, str] = {}
        self.streams: set[QuoteStream] = set()
        self._callbacks: list[QuoteCallback] = []
        self._pending: dict[str, asyncio.Future[None]] = {}
        self._outbox: asyncio.Queue[QuoteTick] = asyncio.Queue()
        self._dispatcher: asyncio.Task[None] | None = None

    # --- frames --------------------------------------------------------------------------------------

    def create_frames(self) -> list[str]:
        return [request_frame("quote_create_session", self.id),
                request_frame("quote_set_fields", self.id, *self.fields)]

    def add_frame(self, names: Iterable[str]) -> str:
        return request_frame("quote_add_symbols", self.id, *names)

    def remove_frame(self, names: Iterable[str]) -> str:
        return request_frame("quote_remove_symbols", self.id, *names)

    def restore_frames(self) -> list[str]:
        frames = self.create_frames()
        if self.symbols:
            frames.append(self.add_frame(self.symbols))
        return frames

    # --- subscriptions -------------------------------------------------------------------------------

    def add(self, symbols: Iterable[Symbol]) -> tuple[list[str], dict[str, asyncio.Future[None]]]:
        """Track new symbols; returns the names to send and a future per name that resolves on its
        snapshot (`quote_completed`) or fails with SymbolNotFound."""
        loop = asyncio.get_running_loop()
        new: list[str] = []
        waits: dict[str, asyncio.Future[None]] = {}
        for symbol in symbols:
            name = symbol.ticker
            if name not in self.symbols:
                self.symbols[name] = symbol
                new.append(name)
                self.errors.pop(name, None)
            future = self._pending.get(name)
            if future is None and name in new:
                future = self._pending[name] = loop.create_future()
            if future is not None:
                waits[name] = future
        return new, waits

    def remove(self, symbols: Iterable[Symbol]) -> list[str]:
        names = [s.ticker for s in symbols if s.ticker in self.symbols]
        for name in names:
            del self.symbols[name]
            self.book.forget(name)
            self._resolve(name)
        return names

    def latest(self, symbol: Symbol) -> QuoteTick | None:
        fields = self.book.get(symbol.ticker)
        return None if fields is None else quote_tick(symbol, fields)

    def add_callback(self, callback: QuoteCallback) -> None:
        self._callbacks.append(callback)
        if self._dispatcher is None:
            self._dispatcher = spawn_detached(self._dispatch(), name="tradingview-quote-callbacks")

    def remove_callback(self, callback: QuoteCallback) -> None:
        with contextlib.suppress(ValueError):
            self._callbacks.remove(callback)

    def stream(self, maxsize: int = 10_000) -> QuoteStream:
        stream = QuoteStream(self, maxsize)
        self.streams.add(stream)
        return stream

    async def close(self) -> None:
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._dispatcher

    # --- SessionHandler ------------------------------------------------------------------------------

    def on_connection_lost(self, error: Exception) -> None:
        pass  # subscriptions are restored by `restore_frames` on the next connection

    def on_message(self, message: Message) -> None:
        params = message.params
        if message.method == "qsd" and len(params) > 1 and isinstance(params[1], dict):
            self._on_qsd(params[1])
        elif message.method == "quote_completed" and len(params) > 1:
            self._resolve(str(params[1]))
        elif message.method == "critical_error":
            log.warning("tradingview_quote_critical_error", params=params[1:])

    def _on_qsd(self, data: dict[str, Any]) -> None:
        name = str(data.get("n"))
        symbol = self.symbols.get(name)
        if symbol is None:
            return  # late update for a symbol we dropped
        if data.get("s") == "error":
            self.errors[name] = str(data.get("errmsg") or "invalid symbol")
            del self.symbols[name]
            self._resolve(name, SymbolNotFound(f"{name}: no quotes ({self.errors[name]})", field="symbol"))
            return
        values = data.get("v")
        if not isinstance(values, dict):
            return
        tick = quote_tick(symbol, self.book.merge(name, values))
        if tick is None:
            return
        for stream in list(self.streams):
            stream.put(tick)
        if self._callbacks:
            self._outbox.put_nowait(tick)

    def _resolve(self, name: str, error: Exception | None = None) -> None:
        future = self._pending.pop(name, None)
        if future is not None and not future.done():
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)

    async def _dispatch(self) -> None:
        while True:
            tick = await self._outbox.get()
            for callback in list(self._callbacks):
                try:
                    await callback(tick)
                except Exception as exc:  # a failing subscriber must not stop the others
                    log.exception("tradingview_quote_callback_failed", error=str(exc),
                                  symbol=tick.symbol.ticker)


def parse_symbols(symbols: Iterable[Symbol | str]) -> list[Symbol]:
    try:
        return [s if isinstance(s, Symbol) else Symbol.parse(s) for s in symbols]
    except DomainError as exc:
        raise SymbolNotFound(str(exc), field="symbol") from exc
