"""`LiveQuotes`: where slices other than quotes follow the live stream without importing the quotes slice.

The quotes slice registers itself as the upstream (`serve`) and calls this object as one of its listeners
on every tick; another slice (alerts) adds its own listener and holds the symbols it needs subscribed, as
a holder of upstream references like a WebSocket connection is. Listeners are called synchronously on the
tick path and must never block.
"""

from collections.abc import Iterable, Sequence
from typing import Protocol

from src.common.errors import Conflict
from src.domain.market_data import Instrument, Interval, QuoteTick
from src.domain.realtime.aggregator import BarUpdate


class QuoteListener(Protocol):
    """Called synchronously on the tick path: must not block."""

    def wants(self, instrument: Instrument) -> bool: ...

    def on_quote(self, instrument: Instrument, tick: QuoteTick, forming: Sequence[BarUpdate]) -> None: ...

    def on_bar_closed(self, update: BarUpdate) -> None: ...


class LiveUpstream(Protocol):
    @property
    def running(self) -> bool: ...

    async def subscribe(self, instruments: Sequence[Instrument], intervals: Iterable[Interval] = (),
                        holder: str = ...) -> list[Instrument]: ...

    async def unsubscribe(self, instruments: Sequence[Instrument], holder: str = ...) -> list[Instrument]: ...


class LiveQuotes:
    def __init__(self) -> None:
        self._listeners: list[QuoteListener] = []
        self._upstream: LiveUpstream | None = None

    def add_listener(self, listener: QuoteListener) -> None:
        if listener not in self._listeners:
            self._listeners.append(listener)

    def remove_listener(self, listener: QuoteListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def serve(self, upstream: LiveUpstream) -> None:
        self._upstream = upstream

    @property
    def running(self) -> bool:
        return self._upstream is not None and self._upstream.running

    async def hold(self, holder: str, instruments: Sequence[Instrument], intervals: Iterable[Interval]) -> None:
        """Have `instruments` subscribed (and `intervals` built) on behalf of `holder`."""
        if self._upstream is None:
            raise Conflict("this process serves no live quotes")
        await self._upstream.subscribe(instruments, intervals, holder=holder)

    async def let_go(self, holder: str, instruments: Sequence[Instrument]) -> None:
        if self._upstream is not None and instruments:
            await self._upstream.unsubscribe(instruments, holder=holder)

    # --- QuoteListener, for the quotes slice ----------------------------------------------------

    def wants(self, instrument: Instrument) -> bool:
        return any(listener.wants(instrument) for listener in self._listeners)

    def on_quote(self, instrument: Instrument, tick: QuoteTick, forming: Sequence[BarUpdate]) -> None:
        for listener in self._listeners:
            if listener.wants(instrument):
                listener.on_quote(instrument, tick, forming)

    def on_bar_closed(self, update: BarUpdate) -> None:
        for listener in self._listeners:
            if listener.wants(update.instrument):
                listener.on_bar_closed(update)
