"""`QuoteService`: the process's one live quote session, turning ticks into cached quotes, events and bars.

Per tick (on the feed's callback, never awaiting storage): the latest quote is kept in memory and marked
for the coalescing cache writer (`quote:latest:…`), the tick goes to the `BarAggregator`, bars it closed
go to the `BarWriter` (persisted, then published as `BarCompletedEvent`), the forming bars are marked for
the cache (`bar:current:…`), the listeners (the WebSocket hub) are called synchronously, and a
`QuoteReceivedEvent` is published. A timer calls `close_due(clock.now() - close_grace_s)` so bars close
when their period ends without a further tick; the grace lets ticks stamped just before a boundary arrive.

Lifecycle: `start()` registers the callback and starts the writers and the timer (no network: TradingView
is contacted on the first subscribe). `stop()` unsubscribes everything, closes due bars, flushes every
forming bar (persisted by the rule in `writers`) and forgets the symbols' aggregation state (a restart
begins afresh: its first bars are partial), then drains both writers. `check()` is the health check.

Late ticks follow the aggregator's rule: ticks older than the symbol's watermark are ignored and counted
(`stale_ticks` in the status).
"""

import asyncio
import contextlib
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

from src.common import cache_keys
from src.common.errors import ApplicationError, Conflict
from src.common.event_bus import EventBus
from src.common.ports import Cache, Clock, OHLCVRepository, QuoteFeed
from src.domain.errors import InvalidInterval
from src.domain.events import QuoteReceivedEvent
from src.domain.market_data import Interval, OHLCVBar, QuoteTick, SeriesKey, Symbol
from src.domain.realtime.aggregator import BarAggregator, BarUpdate
from src.features.quotes.payloads import bar_payload, quote_payload
from src.features.quotes.writers import BarWriter, CoalescingCacheWriter

log = structlog.get_logger("quotes.service")

DEFAULT_INTERVALS: tuple[Interval, ...] = (Interval.M1, Interval.M5, Interval.M15, Interval.H1, Interval.D1)


class QuoteListener(Protocol):
    """Called synchronously on the tick path: must not block (the hub only enqueues)."""

    def wants(self, symbol: Symbol) -> bool: ...

    def on_quote(self, tick: QuoteTick, forming: Sequence[BarUpdate]) -> None: ...

    def on_bar_closed(self, update: BarUpdate) -> None: ...


@dataclass(frozen=True, slots=True)
class SymbolQuoteStatus:
    symbol: Symbol
    last_tick_time: float | None  # the quote's own trade time
    last_received_at: float | None  # when it reached us (clock)
    ticks: int
    stale_ticks: int


@dataclass(frozen=True, slots=True)
class QuoteStatus:
    running: bool
    connected: bool
    reconnect_count: int
    intervals: tuple[Interval, ...]
    symbols: tuple[SymbolQuoteStatus, ...]
    ticks_received: int
    stale_ticks_total: int
    bars_written: int
    bars_skipped: int
    bars_dropped: int
    bars_pending: int
    cache_writes: int


@dataclass(frozen=True, slots=True)
class CurrentBar:
    symbol: Symbol
    bar: OHLCVBar
    closed: bool  # True: the latest bar of the series closed and the next has no tick yet


class QuoteService:
    def __init__(
        self,
        quote_feed: QuoteFeed,
        bars: OHLCVRepository,
        cache: Cache,
        event_bus: EventBus,
        clock: Clock,
        *,
        intervals: Iterable[Interval] = DEFAULT_INTERVALS,
        close_every_s: float = 0.25,
        close_grace_s: float = 2.0,
        cache_flush_s: float = 0.05,
        bar_flush_s: float = 0.05,
    ) -> None:
        self._feed = quote_feed
        self._cache = cache
        self._event_bus = event_bus
        self._clock = clock
        self._close_every_s = close_every_s
        self._close_grace_s = close_grace_s
        self._aggregator = BarAggregator(intervals)
        self._cache_writer = CoalescingCacheWriter(cache, period_s=cache_flush_s)
        self._bar_writer = BarWriter(bars, cache, event_bus, clock, period_s=bar_flush_s)
        self._symbols: dict[Symbol, None] = {}  # subscribed, in subscription order
        self._latest: dict[Symbol, QuoteTick] = {}
        self._received_at: dict[Symbol, float] = {}
        self._ticks: dict[Symbol, int] = {}
        self._last_closed: dict[SeriesKey, OHLCVBar] = {}
        self._listeners: list[QuoteListener] = []
        self._timer: asyncio.Task[None] | None = None
        self._running = False
        self._ticks_received = 0

    # --- lifecycle -------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._running

    async def start(self) -> None:
        if self._running:
            return
        self._running = True
        self._cache_writer.start()
        self._bar_writer.start()
        self._feed.add_quote_callback(self._on_tick)
        self._timer = asyncio.create_task(self._close_loop(), name="quotes-close-timer")
        log.info("quotes_started", intervals=[i.code for i in self._aggregator.intervals])

    async def stop(self) -> None:
        if not self._running:
            return
        self._running = False
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
            self._timer = None
        self._feed.remove_quote_callback(self._on_tick)
        symbols = list(self._symbols)
        if symbols:
            with contextlib.suppress(ApplicationError):  # the upstream may be gone at shutdown
                await self._feed.unsubscribe(symbols)
        self.close_due()
        for symbol in symbols:
            self._forget(symbol)
        await self._bar_writer.stop()
        await self._cache_writer.stop()
        log.info("quotes_stopped", symbols=len(symbols), bars_written=self._bar_writer.written)

    async def check(self) -> bool:
        """Healthy when stopped, or running with the upstream connected (or nothing subscribed)."""
        return not self._running or not self._symbols or self._feed.connected

    async def drain(self) -> None:
        """Write everything pending now (cache and bars); for tests and orderly handovers."""
        await self._bar_writer.drain()
        await self._cache_writer.flush()

    def add_listener(self, listener: QuoteListener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: QuoteListener) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    # --- subscriptions and intervals -------------------------------------------------------------

    async def subscribe(self, symbols: Sequence[Symbol], intervals: Iterable[Interval] = ()) -> list[Symbol]:
        """Subscribe upstream (waits for the snapshots); `intervals` are added to the built set.
        Unknown symbols raise SymbolNotFound after the others are subscribed."""
        if not self._running:
            raise Conflict("quotes are stopped: start them first (POST /api/v1/quotes/start)")
        for interval in intervals:
            self._aggregator.add_interval(interval)
        new = [s for s in dict.fromkeys(symbols) if s not in self._symbols]
        self._symbols.update(dict.fromkeys(new))  # before the call: the snapshot tick arrives inside it
        try:
            await self._feed.subscribe(new)
        except BaseException:
            upstream = set(self._feed.subscriptions)
            for symbol in new:
                if symbol not in upstream:
                    self._forget(symbol)
            raise
        return list(self._symbols)

    async def unsubscribe(self, symbols: Sequence[Symbol]) -> list[Symbol]:
        """Unsubscribe upstream; the symbols' forming bars are persisted and their state forgotten."""
        known = [s for s in dict.fromkeys(symbols) if s in self._symbols]
        if known:
            await self._feed.unsubscribe(known)
        for symbol in known:
            self._forget(symbol)
        return list(self._symbols)

    def set_intervals(self, intervals: Iterable[Interval]) -> tuple[Interval, ...]:
        """Build exactly these intervals from now on; forming bars of removed ones are persisted, new ones
        start with each symbol's next tick (a partial first bar)."""
        wanted = tuple(dict.fromkeys(intervals))
        if not wanted:
            raise InvalidInterval("at least one bar interval is needed", field="intervals")
        for update in self._aggregator.set_intervals(wanted):
            self._bar_writer.put(update)
        return self._aggregator.intervals

    def _forget(self, symbol: Symbol) -> None:
        self._symbols.pop(symbol, None)
        self._latest.pop(symbol, None)
        for update in self._aggregator.remove_symbol(symbol):
            self._bar_writer.put(update)

    # --- the tick path ---------------------------------------------------------------------------

    async def _on_tick(self, tick: QuoteTick) -> None:
        symbol = tick.symbol
        if not self._running or symbol not in self._symbols:
            return  # a late update for a symbol just unsubscribed
        now = self._clock.now()
        self._ticks_received += 1
        self._latest[symbol] = tick
        self._received_at[symbol] = now
        self._ticks[symbol] = self._ticks.get(symbol, 0) + 1
        self._cache_writer.mark(cache_keys.latest_quote(symbol), functools.partial(quote_payload, tick),
                                cache_keys.QUOTE_TTL_S)
        for update in self._aggregator.on_quote(tick):
            self._on_closed(update)
        for interval in self._aggregator.intervals:
            self._mark_current_bar(symbol, interval)
        listeners = [listener for listener in self._listeners if listener.wants(symbol)]
        if listeners:
            forming = self._aggregator.forming_bars(symbol)
            for listener in listeners:
                listener.on_quote(tick, forming)
        await self._event_bus.publish(QuoteReceivedEvent(quote=tick, occurred_at=now))

    def close_due(self) -> list[BarUpdate]:
        """One timer pass: close every bar whose period ended `close_grace_s` before the clock's now."""
        closed = self._aggregator.close_due(self._clock.now() - self._close_grace_s)
        for update in closed:
            self._on_closed(update)
        return closed

    def _on_closed(self, update: BarUpdate) -> None:
        self._last_closed[update.key] = update.bar
        self._bar_writer.put(update)
        self._mark_current_bar(update.symbol, update.bar.interval)
        for listener in self._listeners:
            if listener.wants(update.symbol):
                listener.on_bar_closed(update)

    def _mark_current_bar(self, symbol: Symbol, interval: Interval) -> None:
        self._cache_writer.mark(cache_keys.current_bar(symbol, interval),
                                functools.partial(self._current_bar_payload, symbol, interval),
                                cache_keys.CURRENT_BAR_TTL_S)

    def _current_bar_payload(self, symbol: Symbol, interval: Interval) -> dict[str, Any] | None:
        current = self.current_bar(symbol, interval)
        return None if current is None else bar_payload(symbol, current.bar, closed=current.closed)

    async def _close_loop(self) -> None:
        while True:
            await asyncio.sleep(self._close_every_s)
            try:
                self.close_due()
            except Exception:  # keep the timer alive whatever one pass did
                log.exception("quotes_close_due_failed")

    # --- reads -----------------------------------------------------------------------------------

    def latest_quote(self, symbol: Symbol) -> QuoteTick | None:
        return self._latest.get(symbol)

    def latest_quotes(self) -> list[QuoteTick]:
        return [self._latest[s] for s in self._symbols if s in self._latest]

    def current_bar(self, symbol: Symbol, interval: Interval) -> CurrentBar | None:
        """The forming bar, else the last bar closed for this series (closed=True), else None."""
        forming = self._aggregator.forming(symbol, interval)
        if forming is not None:
            return CurrentBar(symbol, forming, closed=False)
        last = self._last_closed.get(SeriesKey(symbol, interval))
        return None if last is None else CurrentBar(symbol, last, closed=True)

    @property
    def intervals(self) -> tuple[Interval, ...]:
        return self._aggregator.intervals

    @property
    def symbols(self) -> list[Symbol]:
        return list(self._symbols)

    def status(self) -> QuoteStatus:
        agg, writer = self._aggregator, self._bar_writer
        return QuoteStatus(
            running=self._running,
            connected=self._feed.connected,
            reconnect_count=self._feed.reconnect_count,
            intervals=agg.intervals,
            symbols=tuple(
                SymbolQuoteStatus(s, t.time if (t := self._latest.get(s)) else None,
                                  self._received_at.get(s), self._ticks.get(s, 0), agg.stale_ticks(s))
                for s in self._symbols
            ),
            ticks_received=self._ticks_received,
            stale_ticks_total=agg.stale_ticks_total,
            bars_written=writer.written,
            bars_skipped=writer.skipped,
            bars_dropped=writer.dropped,
            bars_pending=writer.pending,
            cache_writes=self._cache_writer.writes,
        )
