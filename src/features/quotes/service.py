"""`QuoteService`: the process's live quote sessions, one per source with live quotes, turning ticks into
cached quotes, bars and pushes. Everything live is keyed by `Instrument` (source + symbol).

Per tick (on the feed's callback, never awaiting storage): the latest quote is kept in memory and marked
for the coalescing cache writer (`quote:latest:…`), the tick goes to the `BarAggregator` (with the time it
arrived, for the feed's lag), bars it closed go to the `BarWriter` (persisted, then published as
`BarCompletedEvent`), the forming bars are marked for the cache (`bar:current:…`) and the listeners (the
WebSocket hub) are called synchronously; ticks are counted, not published as events (nothing needs one per
tick). A timer calls `close_due(clock.now(), close_grace_s)`: a bar closes when the feed's own clock has
passed its end plus the grace (the symbol's declared delay and observed lag are the aggregator's rule), so
a delayed or lagging feed loses no ticks.

Calendars: subscribing symbols takes their trading calendars first, at once (`SymbolCalendars.known`: the
metadata asked of the source only for symbols that have none stored; if that fails, 24x7 UTC, logged) and the
aggregator builds their bars on them, so a live bar and the synced bar of one period share the key. Ticks
outside the calendar's sessions follow the aggregator's rule: no bar, counted (`out_of_session_ticks` in the
status). A symbol whose series follow extended hours (chosen per symbol, `POST /symbols` with
`extended_hours`) is built on its extended-hours calendar, its pre- and post-market trades included.

History (`catch_up`): subscribing a symbol seeds its forming bars from the source's history and backfills
its series since the last stored bar; the timer also watches each feed's connection: when it drops, the
symbols' bars are marked partial (`interrupt`), and when it reconnects the outage is backfilled from
history and the forming bars are seeded again.

Lifecycle: `start()` starts the writers and the timer (no network: a source's feed is registered and
contacted on the first subscribe to it). `stop()` unsubscribes everything, closes due bars, flushes every
forming bar (partial snapshots, persisted by the rule in `writers`) and forgets the symbols' aggregation
state (a restart seeds afresh), then drains both writers. `check()` is the health check.

Late ticks follow the aggregator's rule: ticks older than the symbol's watermark are ignored and counted
(`stale_ticks` in the status).
"""

import asyncio
import contextlib
import functools
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any

import structlog

from src.common import cache_keys
from src.common.calendars import SymbolCalendars
from src.common.errors import ApplicationError, Conflict, SymbolNotFound
from src.common.event_bus import EventBus
from src.common.live import QuoteListener
from src.common.ports import Cache, Clock, OHLCVRepository, QuoteCallback, QuoteFeed
from src.common.providers import ProviderRegistry
from src.domain.errors import InvalidInterval
from src.domain.market_data import Instrument, Interval, OHLCVBar, QuoteTick, SeriesKey, Symbol
from src.domain.market_data.trading_hours import ALWAYS_OPEN_HOURS, TradingHours
from src.domain.realtime.aggregator import BarAggregator, BarUpdate
from src.domain.realtime.references import API_HOLDER, SubscriptionReferences
from src.features.quotes.catch_up import CatchUp
from src.features.quotes.payloads import bar_payload, quote_payload
from src.features.quotes.writers import BarWriter, CoalescingCacheWriter

log = structlog.get_logger("quotes.service")

DEFAULT_INTERVALS: tuple[Interval, ...] = (Interval.M1, Interval.M5, Interval.M15, Interval.H1, Interval.D1)
SEED_WAIT_S = 5.0  # a subscribe waits this long for its symbols' seeds (they finish in the background)


@dataclass(frozen=True, slots=True)
class SymbolQuoteStatus:
    instrument: Instrument
    last_tick_time: float | None  # the quote's own trade time
    last_received_at: float | None  # when it reached us (clock)
    ticks: int
    stale_ticks: int
    out_of_session_ticks: int = 0  # outside the symbol's trading sessions: in no bar
    holders: int = 0  # the REST API and the WebSocket connections that hold it


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
    bars_seeded: int = 0  # forming bars seeded from the source's history
    bars_backfilled: int = 0  # closed bars written from the source's history (missed, or straddling an outage)
    catch_ups_failed: int = 0  # history fetches that failed (their bars stay partial)
    out_of_session_ticks_total: int = 0
    bars_settled: int = 0  # closed bars written as the source has them once their period was over


@dataclass(frozen=True, slots=True)
class CurrentBar:
    instrument: Instrument
    bar: OHLCVBar
    closed: bool  # True: the latest bar of the series closed and the next has no tick yet


class _SourceSession:
    """One source's feed, its aggregator, the symbols subscribed to it and what the timer saw of its
    connection."""

    def __init__(self, source: str, feed: QuoteFeed, intervals: Iterable[Interval], callback: QuoteCallback) -> None:
        self.source = source
        self.feed = feed
        self.aggregator = BarAggregator(intervals, source=source)
        self.subscribed: dict[Symbol, Instrument] = {}  # in subscription order
        self.hours: dict[Symbol, TradingHours] = {}  # the calendar each symbol's bars are built on
        self.callback = callback
        self.reconnects = feed.reconnect_count
        self.down_since: dict[Symbol, float] = {}  # the last trade time of each symbol when the feed dropped
        self.adding: dict[Instrument, asyncio.Task[dict[Instrument, Exception]]] = {}  # upstream adds in flight
        self.catch_up: CatchUp | None = None


class QuoteService:
    def __init__(
        self,
        providers: ProviderRegistry,
        bars: OHLCVRepository,
        cache: Cache,
        event_bus: EventBus,
        clock: Clock,
        *,
        calendars: SymbolCalendars | None = None,
        intervals: Iterable[Interval] = DEFAULT_INTERVALS,
        close_every_s: float = 0.25,
        close_grace_s: float = 2.0,
        cache_flush_s: float = 0.05,
        bar_flush_s: float = 0.05,
    ) -> None:
        self._providers = providers
        self._bars = bars
        self._clock = clock
        self._calendars = calendars
        self._close_every_s = close_every_s
        self._close_grace_s = close_grace_s
        self._intervals: tuple[Interval, ...] = BarAggregator(intervals, source="none").intervals
        self._sessions: dict[str, _SourceSession] = {}
        self._cache_writer = CoalescingCacheWriter(cache, period_s=cache_flush_s)
        self._bar_writer = BarWriter(bars, cache, event_bus, clock, period_s=bar_flush_s)
        self._latest: dict[Instrument, QuoteTick] = {}
        self._received_at: dict[Instrument, float] = {}
        self._ticks: dict[Instrument, int] = {}
        self._last_closed: dict[SeriesKey, OHLCVBar] = {}
        self._listeners: list[QuoteListener] = []
        self._timer: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()  # catch-ups, upstream adds and removals
        self._refs = SubscriptionReferences()
        self._running = False
        self.ticks_received = 0

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
        self._timer = asyncio.create_task(self._close_loop(), name="quotes-close-timer")
        log.info("quotes_started", intervals=[i.code for i in self._intervals])

    async def stop(self) -> None:
        if not self._running:
            return
        self._running = False
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
            self._timer = None
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        for session in self._sessions.values():
            if session.catch_up is not None:
                await session.catch_up.cancel()  # bars being settled are written as built
        symbols = 0
        for session in self._sessions.values():
            symbols += await self._stop_session(session)
        self._sessions.clear()
        self._refs = SubscriptionReferences()
        await self._bar_writer.stop()
        await self._cache_writer.stop()
        log.info("quotes_stopped", symbols=symbols, bars_written=self._bar_writer.written)

    async def _stop_session(self, session: _SourceSession) -> int:
        session.feed.remove_quote_callback(session.callback)
        instruments = list(session.subscribed.values())
        if instruments:
            with contextlib.suppress(ApplicationError):  # the upstream may be gone at shutdown
                await session.feed.unsubscribe([i.symbol for i in instruments])
        self._close_due(session)
        for instrument in instruments:
            self._forget(session, instrument)
        return len(instruments)

    async def check(self) -> bool:
        """Healthy when stopped, or running with every feed that has subscriptions connected."""
        return not self._running or all(s.feed.connected for s in self._sessions.values() if s.subscribed)

    async def drain(self) -> None:
        """Finish the catch-ups under way, then write everything pending now (cache and bars); for tests and
        orderly handovers."""
        while self._background:  # what they start meanwhile too
            await asyncio.gather(*list(self._background), return_exceptions=True)
        for session in list(self._sessions.values()):
            if session.catch_up is not None:
                await session.catch_up.wait()
        await self._bar_writer.drain()
        await self._cache_writer.flush()

    def add_listener(self, listener: QuoteListener) -> None:
        self._listeners.append(listener)

    # --- subscriptions and intervals -------------------------------------------------------------

    async def subscribe(self, instruments: Sequence[Instrument], intervals: Iterable[Interval] = (),
                        holder: str = API_HOLDER) -> list[Instrument]:
        """Subscribe upstream on behalf of `holder` (waits for the snapshots); `intervals` are added to the built
        set. Unknown symbols raise SymbolNotFound, to every requester of them, after the others are subscribed.
        What a failed or cancelled subscribe could not subscribe, `holder` no longer holds."""
        if not self._running:
            raise Conflict("quotes are stopped: start them first (POST /api/v1/quotes/start)")
        self._add_intervals(intervals)
        for source, group in groupby(dict.fromkeys(instruments), key=lambda i: i.source):
            await self._subscribe(self._session(source), list(group), holder)
        return self.instruments

    async def _subscribe(self, session: _SourceSession, instruments: list[Instrument], holder: str) -> None:
        held = self._refs.held_by(holder)
        taken = [i for i in instruments if i not in held]  # what the holder held before stays held
        self._refs.take(holder, taken)
        try:
            failed = await self._upstream(session, instruments)
        except BaseException:  # cancelled (the requester left) or stopped: what it took goes
            self._spawn(self._unsubscribe_upstream(self._release(holder, taken)))
            raise
        if failed:
            await self._unsubscribe_upstream(self._release(holder, [i for i in failed if i in taken]))
            raise _refusal(failed)

    async def _upstream(self, session: _SourceSession, instruments: list[Instrument]) -> dict[Instrument, Exception]:
        """Subscribe what is neither subscribed nor being subscribed, and wait for every add of `instruments`
        (one shared add per symbol, whoever asked first); returns the ones that failed, with their error."""
        adds = {session.adding[i] for i in instruments if i in session.adding}
        new = [i for i in instruments if i not in session.adding and i.symbol not in session.subscribed]
        if new:
            add = self._spawn(self._add(session, new))
            session.adding.update(dict.fromkeys(new, add))
            adds.add(add)
        if adds:
            await asyncio.wait(adds)  # a requester cancelled here leaves the shared add running
        return {i: error for add in adds for i, error in add.result().items() if i in instruments}

    async def _add(self, session: _SourceSession, new: list[Instrument]) -> dict[Instrument, Exception]:
        failed: dict[Instrument, Exception] = {}
        try:
            hours = await asyncio.gather(*(self._hours_of(i) for i in new))  # before the feed: its snapshot ticks
            for instrument, known in zip(new, hours, strict=True):
                self._use_hours(session, instrument, known)
            session.subscribed.update((i.symbol, i) for i in new)  # before the call: the snapshot tick arrives in it
            await session.feed.subscribe([i.symbol for i in new])
        except Exception as error:
            upstream = set(session.feed.subscriptions)
            failed = {i: error for i in new if i.symbol not in upstream}
        finally:
            for instrument in new:
                session.adding.pop(instrument, None)
        for instrument in failed:
            self._forget(session, instrument)
        done = [i for i in new if i not in failed]
        with contextlib.suppress(ApplicationError):  # released meanwhile: nobody waits for these
            await self._unsubscribe_upstream([i for i in done if not self._refs.referenced(i)])
        await self._seed(session, [i for i in done if self._refs.referenced(i)])
        return failed

    def _release(self, holder: str, instruments: Iterable[Instrument]) -> list[Instrument]:
        """`holder`'s references go; returns what is subscribed upstream with no holder left (what is being
        added is left to its add, which drops it when done)."""
        gone = []
        for instrument in self._refs.release(holder, instruments):
            session = self._sessions.get(instrument.source)
            if session is not None and instrument.symbol in session.subscribed and instrument not in session.adding:
                gone.append(instrument)
        return gone

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> "asyncio.Task[Any]":
        task = asyncio.create_task(work, name="quotes background")
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    async def _hours_of(self, instrument: Instrument) -> TradingHours:
        """The symbol's calendar (its metadata fetched when none is stored); 24x7 UTC when the source cannot say."""
        if self._calendars is None:
            return ALWAYS_OPEN_HOURS
        try:
            return await self._calendars.known(instrument)
        except Exception as error:  # live quotes go on; the feed decides whether the symbol exists
            hours = await self._calendars.hours(instrument)
            log.warning("quotes_symbol_sessions_unknown", instrument=str(instrument), error=str(error),
                        using="24x7 UTC" if hours.calendar.is_utc_grid else "stored sessions")
            return hours

    def _use_hours(self, session: _SourceSession, instrument: Instrument, hours: TradingHours) -> None:
        session.hours[instrument.symbol] = hours
        for update in session.aggregator.set_calendar(instrument.symbol, hours.calendar):
            self._bar_writer.put(update)

    async def _seed(self, session: _SourceSession, instruments: list[Instrument]) -> None:
        """Seed and backfill newly subscribed symbols; waits up to SEED_WAIT_S, the rest goes on meanwhile."""
        seeds = [self._catch_up(session, i, await self._last_stored(i)) for i in instruments]
        if seeds:
            await asyncio.wait(seeds, timeout=SEED_WAIT_S)

    async def _last_stored(self, instrument: Instrument) -> Callable[[Interval], int | None]:
        """Per live interval, the open time of the series' newest stored bar (backfilled from there)."""
        last: dict[Interval, int | None] = {}
        for interval in self._intervals:
            with contextlib.suppress(Exception):  # a store outage: only the forming bar is seeded
                stored = await self._bars.read(SeriesKey(instrument.symbol, interval, instrument.source), limit=1)
                last[interval] = int(stored.time[-1]) if len(stored) else None  # not numpy's: it goes upstream as JSON
        return last.get

    def _catch_up(self, session: _SourceSession, instrument: Instrument,
                  since: Callable[[Interval], int | None]) -> "asyncio.Task[None]":
        if session.catch_up is None:
            session.catch_up = CatchUp(self._providers.history(session.source), session.aggregator, self._clock,
                                       self._emit_closed)
        tick = self._latest.get(instrument)
        hours = session.hours.get(instrument.symbol, ALWAYS_OPEN_HOURS)
        task = asyncio.create_task(session.catch_up.run(instrument, since, tick.time if tick else 0.0, hours),
                                   name=f"catch up {instrument}")
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    async def unsubscribe(self, instruments: Sequence[Instrument], holder: str = API_HOLDER) -> list[Instrument]:
        """`holder` no longer holds `instruments`; those nobody holds any more are unsubscribed upstream (their
        forming bars persisted, their state forgotten)."""
        await self._unsubscribe_upstream(self._release(holder, instruments))
        return self.instruments

    async def release(self, holder: str) -> None:
        """Everything `holder` held goes (its WebSocket connection ended)."""
        await self._unsubscribe_upstream(self._release(holder, self._refs.held_by(holder)))

    async def _unsubscribe_upstream(self, instruments: Sequence[Instrument]) -> None:
        for source, group in groupby(instruments, key=lambda i: i.source):
            session = self._sessions.get(source)
            known = [i for i in group if session is not None and i.symbol in session.subscribed]
            if session is None or not known:
                continue
            for instrument in known:  # first: a subscribe arriving meanwhile adds it again, after the removal
                self._forget(session, instrument)
            await session.feed.unsubscribe([i.symbol for i in known])

    def set_intervals(self, intervals: Iterable[Interval]) -> tuple[Interval, ...]:
        """Build exactly these intervals from now on; forming bars of removed ones are persisted, new ones
        start with each symbol's next tick (a partial first bar)."""
        wanted = tuple(dict.fromkeys(intervals))
        if not wanted:
            raise InvalidInterval("at least one bar interval is needed", field="intervals")
        self._intervals = BarAggregator(wanted, source="none").intervals
        for session in self._sessions.values():
            for update in session.aggregator.set_intervals(wanted):
                self._bar_writer.put(update)
        return self._intervals

    async def change_intervals(self, intervals: Iterable[Interval]) -> tuple[Interval, ...]:
        """`set_intervals` as `QuoteSessions` has it (a remote collector's change is awaited)."""
        return self.set_intervals(intervals)

    def holdings(self) -> dict[str, list[Instrument]]:
        """What each holder holds (what a collector taking over subscribes again)."""
        return self._refs.holdings()

    def _add_intervals(self, intervals: Iterable[Interval]) -> None:
        added = tuple(i for i in intervals if i not in self._intervals)
        if added:
            self.set_intervals((*self._intervals, *added))

    def _session(self, source: str) -> _SourceSession:
        session = self._sessions.get(source)
        if session is None:
            feed = self._providers.quotes(source)  # an unknown source or one without quotes stops here
            callback = functools.partial(self._on_tick, source)
            session = self._sessions[source] = _SourceSession(source, feed, self._intervals, callback)
            feed.add_quote_callback(callback)
        return session

    def _forget(self, session: _SourceSession, instrument: Instrument) -> None:
        session.subscribed.pop(instrument.symbol, None)
        session.hours.pop(instrument.symbol, None)
        self._latest.pop(instrument, None)
        if session.catch_up is not None:
            session.catch_up.forget(instrument)
        for update in session.aggregator.remove_symbol(instrument.symbol):
            self._bar_writer.put(update)

    # --- the tick path ---------------------------------------------------------------------------

    async def _on_tick(self, source: str, tick: QuoteTick) -> None:
        session = self._sessions.get(source)
        instrument = None if session is None else session.subscribed.get(tick.symbol)
        if not self._running or session is None or instrument is None:
            return  # a late update for a symbol just unsubscribed
        now = self._clock.now()
        self.ticks_received += 1
        self._latest[instrument] = tick
        self._received_at[instrument] = now
        self._ticks[instrument] = self._ticks.get(instrument, 0) + 1
        self._cache_writer.mark(cache_keys.latest_quote(instrument), functools.partial(quote_payload, instrument, tick),
                                cache_keys.QUOTE_TTL_S)
        aggregator = session.aggregator
        for update in aggregator.on_quote(tick, received_at=now):
            self._on_closed(update)
        for interval in aggregator.intervals:
            self._mark_current_bar(instrument, interval)
        listeners = [listener for listener in self._listeners if listener.wants(instrument)]
        if listeners:
            forming = aggregator.forming_bars(tick.symbol)
            for listener in listeners:
                listener.on_quote(instrument, tick, forming)

    def close_due(self) -> list[BarUpdate]:
        """One timer pass: catch up after reconnects, then close every bar whose period ended `close_grace_s`
        before each feed's own clock."""
        for session in self._sessions.values():
            self._watch_connection(session)
        return [update for session in self._sessions.values() for update in self._close_due(session)]

    def _close_due(self, session: _SourceSession) -> list[BarUpdate]:
        closed = session.aggregator.close_due(self._clock.now(), self._close_grace_s)
        for update in closed:
            self._on_closed(update)
        return closed

    def _watch_connection(self, session: _SourceSession) -> None:
        """A dropped feed marks its symbols' bars partial; its reconnect backfills the outage from history."""
        feed = session.feed
        reconnected = feed.reconnect_count != session.reconnects
        if (not feed.connected or reconnected) and not session.down_since:
            self._interrupt(session)
        if reconnected and feed.connected:
            session.reconnects = feed.reconnect_count
            self._backfill_outage(session)

    def _interrupt(self, session: _SourceSession) -> None:
        for symbol, instrument in session.subscribed.items():
            tick = self._latest.get(instrument)
            session.down_since[symbol] = tick.time if tick else self._clock.now()
            session.aggregator.interrupt(symbol)

    def _backfill_outage(self, session: _SourceSession) -> None:
        """From the bar forming at each symbol's last trade before the outage."""
        down, session.down_since = session.down_since, {}
        for symbol, since in down.items():
            subscribed = session.subscribed.get(symbol)
            if subscribed is not None:
                hours = session.hours.get(symbol, ALWAYS_OPEN_HOURS)
                self._catch_up(session, subscribed, functools.partial(_bar_at, hours, since))

    def _on_closed(self, update: BarUpdate) -> None:
        """A bar the tick path or the timer closed: stored and published, unless a catch-up takes it over."""
        session = self._sessions.get(update.instrument.source)
        if session is None or session.catch_up is None or not session.catch_up.claims(update):
            self._emit_closed(update)

    def _emit_closed(self, update: BarUpdate) -> None:
        last = self._last_closed.get(update.key)
        if last is None or last.time <= update.bar.time:
            self._last_closed[update.key] = update.bar
        self._bar_writer.put(update)
        self._mark_current_bar(update.instrument, update.bar.interval)
        for listener in self._listeners:
            if listener.wants(update.instrument):
                listener.on_bar_closed(update)

    def _mark_current_bar(self, instrument: Instrument, interval: Interval) -> None:
        self._cache_writer.mark(cache_keys.current_bar(instrument, interval),
                                functools.partial(self._current_bar_payload, instrument, interval),
                                cache_keys.CURRENT_BAR_TTL_S)

    def _current_bar_payload(self, instrument: Instrument, interval: Interval) -> dict[str, Any] | None:
        current = self.current_bar(instrument, interval)
        return None if current is None else bar_payload(current.instrument, current.bar, closed=current.closed)

    async def _close_loop(self) -> None:
        while True:
            await asyncio.sleep(self._close_every_s)
            try:
                self.close_due()
            except Exception:  # keep the timer alive whatever one pass did
                log.exception("quotes_close_due_failed")

    # --- reads -----------------------------------------------------------------------------------

    def latest_quote(self, instrument: Instrument) -> QuoteTick | None:
        return self._latest.get(instrument)

    def snapshot(self, instrument: Instrument) -> tuple[QuoteTick | None, list[BarUpdate]]:
        """The latest quote and the forming bars of `instrument` (for a WebSocket subscription's start)."""
        session = self._sessions.get(instrument.source)
        forming = [] if session is None else session.aggregator.forming_bars(instrument.symbol)
        return self._latest.get(instrument), forming

    def latest_quotes(self) -> list[tuple[Instrument, QuoteTick]]:
        return [(i, self._latest[i]) for i in self.instruments if i in self._latest]

    def current_bar(self, instrument: Instrument, interval: Interval) -> CurrentBar | None:
        """The forming bar, else the last bar closed for this series (closed=True), else None."""
        session = self._sessions.get(instrument.source)
        forming = None if session is None else session.aggregator.forming(instrument.symbol, interval)
        if forming is not None:
            return CurrentBar(instrument, forming, closed=False)
        last = self._last_closed.get(SeriesKey(instrument.symbol, interval, instrument.source))
        return None if last is None else CurrentBar(instrument, last, closed=True)

    @property
    def intervals(self) -> tuple[Interval, ...]:
        return self._intervals

    @property
    def cache_write_failures(self) -> int:
        return self._cache_writer.failures

    def holders(self, instrument: Instrument) -> int:
        """How many holders (the REST API, WebSocket connections) hold `instrument`."""
        return self._refs.holders(instrument)

    @property
    def instruments(self) -> list[Instrument]:
        return [i for session in self._sessions.values() for i in session.subscribed.values()]

    def status(self) -> QuoteStatus:
        writer = self._bar_writer
        return QuoteStatus(
            running=self._running,
            connected=all(s.feed.connected for s in self._sessions.values()),
            reconnect_count=sum(s.feed.reconnect_count for s in self._sessions.values()),
            intervals=self._intervals,
            symbols=tuple(self._symbol_status(s, i) for s in self._sessions.values() for i in s.subscribed.values()),
            ticks_received=self.ticks_received,
            stale_ticks_total=sum(s.aggregator.stale_ticks_total for s in self._sessions.values()),
            bars_written=writer.written,
            bars_skipped=writer.skipped,
            bars_dropped=writer.dropped,
            bars_pending=writer.pending,
            cache_writes=self._cache_writer.writes,
            bars_seeded=sum(s.catch_up.seeded for s in self._sessions.values() if s.catch_up),
            bars_backfilled=sum(s.catch_up.backfilled for s in self._sessions.values() if s.catch_up),
            catch_ups_failed=sum(s.catch_up.failed for s in self._sessions.values() if s.catch_up),
            out_of_session_ticks_total=sum(s.aggregator.out_of_session_ticks_total for s in self._sessions.values()),
            bars_settled=sum(s.catch_up.settled for s in self._sessions.values() if s.catch_up),
        )

    def _symbol_status(self, session: _SourceSession, instrument: Instrument) -> SymbolQuoteStatus:
        tick = self._latest.get(instrument)
        aggregator = session.aggregator
        return SymbolQuoteStatus(instrument, tick.time if tick else None, self._received_at.get(instrument),
                                 self._ticks.get(instrument, 0), aggregator.stale_ticks(instrument.symbol),
                                 aggregator.out_of_session_ticks(instrument.symbol), self._refs.holders(instrument))


def _refusal(failed: dict[Instrument, Exception]) -> Exception:
    """One error for a requester's failed symbols: SymbolNotFound naming the unknown ones, or the other error."""
    other = [error for error in failed.values() if not isinstance(error, SymbolNotFound)]
    if other:
        return other[0]
    return SymbolNotFound(f"unknown symbols: {', '.join(i.symbol.ticker for i in failed)}", field="symbol")


def _bar_at(hours: TradingHours, time: float, interval: Interval) -> int | None:
    """The open of the bar holding `time`, or of the last bar before it (a trade after the close)."""
    return hours.calendar.latest_open(int(time), interval)
