"""The collector's live data on the live stream, and its mirror in every API worker.

`LivePublisher` is a listener of the collector's `QuoteService` while it leads: each tick (with the forming
bars it changed) and each closed bar becomes one entry, in the order they happened; the collector adds a
status entry every `status_every_s` and after each command. `LiveMirror` follows the stream in an API
worker: it keeps the latest quote, the forming and last closed bars of every symbol and the latest status,
serves the reads of `QuoteSessions` from them, and calls its listeners (the worker's WebSocket hub) as the
collector's service calls its own. Entries this process appended are skipped (it had them locally).

Quote entries are the hot path (every tick, in every worker): they have a compact positional form of their
own (`quote_entry`, a tenth of the generic codec's cost) and name their instrument beside it, so a worker
decodes a tick only when one of its clients wants the symbol or a read asks for it (the newest one then).
"""

import time
from collections.abc import Callable, Sequence

import orjson
import structlog

from src.common.live import QuoteListener
from src.domain.market_data import Instrument, Interval, OHLCVBar, QuoteTick, SeriesKey, Symbol
from src.domain.realtime.aggregator import BarUpdate
from src.features.quotes.service import CurrentBar, QuoteStatus
from src.infrastructure.streams.codec import DataclassCodec, plain_scalar
from src.infrastructure.streams.redis_streams import Fields, StreamWriter

log = structlog.get_logger("scale_out.live")

ORIGIN, KIND, INSTRUMENT, DATA = "o", "k", "i", "d"
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
        self.failures = 0

    def wants(self, instrument: Instrument) -> bool:
        return self._publishing()

    def on_quote(self, instrument: Instrument, tick: QuoteTick, forming: Sequence[BarUpdate]) -> None:
        self._put(QUOTE, lambda: quote_entry(tick, forming), {INSTRUMENT: str(instrument)})

    def on_bar_closed(self, update: BarUpdate) -> None:
        self._put(BAR_CLOSED, lambda: self._codec.encode(update))

    def on_status(self, status: QuoteStatus) -> None:
        self._put(STATUS, lambda: self._codec.encode(status))

    def _put(self, kind: bytes, encode: Callable[[], bytes], extra: dict[str, str] | None = None) -> None:
        """Never raises: the collector's tick path and catch-ups call it, and go on whatever happens here."""
        try:
            self._writer.put(self._stream, {ORIGIN: self._process, KIND: kind, DATA: encode(), **(extra or {})})
        except Exception:
            self.failures += 1
            log.exception("live_entry_not_published", kind=kind.decode())


class LiveMirror:
    def __init__(self, codec: DataclassCodec, *, process: str, stale_after_s: float, idle: QuoteStatus,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._codec = codec
        self._process = process.encode()
        self._stale_after_s = stale_after_s
        self._idle = idle
        self._monotonic = monotonic
        self._listeners: list[QuoteListener] = []
        self._instruments: dict[bytes, Instrument] = {}  # by their text in the entries
        self._undecoded: dict[Instrument, bytes] = {}  # the newest quote entry of each, until read
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
        kind, data = fields.get(KIND.encode()), fields[DATA.encode()]
        self.entries += 1
        if kind == QUOTE:
            self._on_quote(self._instrument(fields[INSTRUMENT.encode()]), data)
        elif kind == BAR_CLOSED:
            self._on_bar_closed(self._codec.decode(data))
        elif kind == STATUS:
            self.accept_status(self._codec.decode(data))

    def _instrument(self, text: bytes) -> Instrument:
        instrument = self._instruments.get(text)
        if instrument is None:
            source, ticker = text.decode().split(":", 1)
            instrument = self._instruments[text] = Instrument(source, Symbol.parse(ticker))
        return instrument

    def _on_quote(self, instrument: Instrument, data: bytes) -> None:
        listeners = [listener for listener in self._listeners if listener.wants(instrument)]
        if not listeners:
            self._undecoded[instrument] = data
            return
        self._undecoded.pop(instrument, None)
        tick, forming = quote_from_entry(instrument, data)
        self._latest[instrument] = tick
        self._forming[instrument] = forming
        for listener in listeners:
            listener.on_quote(instrument, tick, forming)

    def _decode_newest(self, instrument: Instrument) -> None:
        data = self._undecoded.pop(instrument, None)
        if data is not None:
            self._latest[instrument], self._forming[instrument] = quote_from_entry(instrument, data)

    def _on_bar_closed(self, update: BarUpdate) -> None:
        self._decode_newest(update.instrument)
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
        for gone in [i for i in (*self._latest, *self._undecoded) if i not in subscribed]:
            self._latest.pop(gone, None)
            self._undecoded.pop(gone, None)
            self._forming.pop(gone, None)

    # --- the reads of `QuoteSessions` --------------------------------------------------------------

    def status(self) -> QuoteStatus:
        """The collector's latest status; an idle one when none came for `stale_after_s` (no collector)."""
        fresh = self._status is not None and self._monotonic() - self._status_at <= self._stale_after_s
        return self._status if fresh and self._status is not None else self._idle

    def latest_quote(self, instrument: Instrument) -> QuoteTick | None:
        self._decode_newest(instrument)
        return self._latest.get(instrument)

    def latest_quotes(self) -> list[tuple[Instrument, QuoteTick]]:
        for instrument in list(self._undecoded):
            self._decode_newest(instrument)
        return list(self._latest.items())

    def current_bar(self, instrument: Instrument, interval: Interval) -> CurrentBar | None:
        self._decode_newest(instrument)
        for update in self._forming.get(instrument, ()):
            if update.bar.interval is interval:
                return CurrentBar(instrument, update.bar, closed=False)
        last = self._last_closed.get(SeriesKey(instrument.symbol, interval, instrument.source))
        return None if last is None else CurrentBar(instrument, last, closed=True)

    def snapshot(self, instrument: Instrument) -> tuple[QuoteTick | None, list[BarUpdate]]:
        self._decode_newest(instrument)
        return self._latest.get(instrument), list(self._forming.get(instrument, ()))


def quote_entry(tick: QuoteTick, forming: Sequence[BarUpdate]) -> bytes:
    bars = [(b.interval.code, b.time, b.open, b.high, b.low, b.close, b.volume, b.partial)
            for b in (update.bar for update in forming)]
    return orjson.dumps((tick.time, tick.price, tick.cumulative_volume, tick.bid, tick.ask, tick.change,
                         tick.change_percent, tick.delay, bars), default=plain_scalar)


def quote_from_entry(instrument: Instrument, data: bytes) -> tuple[QuoteTick, tuple[BarUpdate, ...]]:
    time_, price, volume, bid, ask, change, change_percent, delay, bars = orjson.loads(data)
    tick = QuoteTick(instrument.symbol, time_, price, volume, bid, ask, change, change_percent, delay)
    forming = tuple(BarUpdate(instrument, OHLCVBar(Interval.parse(code), *values), closed=False)
                    for code, *values in bars)
    return tick, forming
