"""The collector's live data on the live stream, and its mirror in every API worker.

`LivePublisher` is a listener of the collector's `QuoteService` while it leads: each tick (with the forming
bars it changed) and each closed bar becomes one entry, in the order they happened; the collector adds a
status entry every `status_every_s` and after each command. `LiveMirror` follows the stream in an API
worker: it keeps the latest quote, the forming and last closed bars of every symbol and the latest status,
serves the reads of `QuoteSessions` from them, and calls its listeners (the worker's WebSocket hub) as the
collector's service calls its own. Entries this process appended are skipped (it had them locally).
"""

import time
from collections.abc import Callable, Sequence
from typing import Any

from src.domain.market_data import Instrument, Interval, OHLCVBar, QuoteTick, SeriesKey
from src.domain.realtime.aggregator import BarUpdate
from src.features.quotes.service import CurrentBar, QuoteListener, QuoteStatus
from src.infrastructure.streams.codec import DataclassCodec
from src.infrastructure.streams.redis_streams import Fields, StreamWriter

ORIGIN, KIND, DATA = "o", "k", "d"
QUOTE, BAR_CLOSED, STATUS = b"q", b"b", b"s"


class LivePublisher:
    """A `QuoteListener` of the collector's service; `publishing()` says whether it leads right now."""

    def __init__(self, writer: StreamWriter, codec: DataclassCodec, *, stream: str, process: str,
                 publishing: Callable[[], bool]) -> None:
        self._writer = writer
        self._codec = codec
        self._stream = stream
        self._process = process.encode()
        self._publishing = publishing

    def wants(self, instrument: Instrument) -> bool:
        return self._publishing()

    def on_quote(self, instrument: Instrument, tick: QuoteTick, forming: Sequence[BarUpdate]) -> None:
        self._put(QUOTE, (instrument, tick, tuple(forming)))

    def on_bar_closed(self, update: BarUpdate) -> None:
        self._put(BAR_CLOSED, update)

    def on_status(self, status: QuoteStatus) -> None:
        self._put(STATUS, status)

    def _put(self, kind: bytes, data: Any) -> None:
        self._writer.put(self._stream, {ORIGIN: self._process, KIND: kind, DATA: self._codec.encode(data)})


class LiveMirror:
    def __init__(self, codec: DataclassCodec, *, process: str, stale_after_s: float, idle: QuoteStatus,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._codec = codec
        self._process = process.encode()
        self._stale_after_s = stale_after_s
        self._idle = idle
        self._monotonic = monotonic
        self._listeners: list[QuoteListener] = []
        self._latest: dict[Instrument, QuoteTick] = {}
        self._forming: dict[Instrument, tuple[BarUpdate, ...]] = {}
        self._last_closed: dict[SeriesKey, OHLCVBar] = {}
        self._status: QuoteStatus | None = None
        self._status_at = 0.0
        self.entries = 0

    def add_listener(self, listener: QuoteListener) -> None:
        self._listeners.append(listener)

    async def deliver(self, fields: Fields) -> None:
        if fields.get(ORIGIN.encode()) == self._process:
            return
        kind, data = fields.get(KIND.encode()), self._codec.decode(fields[DATA.encode()])
        self.entries += 1
        if kind == QUOTE:
            self._on_quote(*data)
        elif kind == BAR_CLOSED:
            self._on_bar_closed(data)
        elif kind == STATUS:
            self.accept_status(data)

    def _on_quote(self, instrument: Instrument, tick: QuoteTick, forming: tuple[BarUpdate, ...]) -> None:
        self._latest[instrument] = tick
        self._forming[instrument] = forming
        for listener in self._listeners:
            if listener.wants(instrument):
                listener.on_quote(instrument, tick, forming)

    def _on_bar_closed(self, update: BarUpdate) -> None:
        last = self._last_closed.get(update.key)
        if last is None or last.time <= update.bar.time:
            self._last_closed[update.key] = update.bar
        self._forming[update.instrument] = tuple(u for u in self._forming.get(update.instrument, ())
                                                 if u.bar.interval is not update.bar.interval)
        for listener in self._listeners:
            if listener.wants(update.instrument):
                listener.on_bar_closed(update)

    def accept_status(self, status: QuoteStatus) -> None:
        self._status, self._status_at = status, self._monotonic()
        subscribed = {s.instrument for s in status.symbols}
        for gone in [i for i in self._latest if i not in subscribed]:
            self._latest.pop(gone, None)
            self._forming.pop(gone, None)

    # --- the reads of `QuoteSessions` --------------------------------------------------------------

    def status(self) -> QuoteStatus:
        """The collector's latest status; an idle one when none came for `stale_after_s` (no collector)."""
        fresh = self._status is not None and self._monotonic() - self._status_at <= self._stale_after_s
        return self._status if fresh and self._status is not None else self._idle

    def latest_quote(self, instrument: Instrument) -> QuoteTick | None:
        return self._latest.get(instrument)

    def latest_quotes(self) -> list[tuple[Instrument, QuoteTick]]:
        return list(self._latest.items())

    def current_bar(self, instrument: Instrument, interval: Interval) -> CurrentBar | None:
        for update in self._forming.get(instrument, ()):
            if update.bar.interval is interval:
                return CurrentBar(instrument, update.bar, closed=False)
        last = self._last_closed.get(SeriesKey(instrument.symbol, interval, instrument.source))
        return None if last is None else CurrentBar(instrument, last, closed=True)

    def snapshot(self, instrument: Instrument) -> tuple[QuoteTick | None, list[BarUpdate]]:
        return self._latest.get(instrument), list(self._forming.get(instrument, ()))
