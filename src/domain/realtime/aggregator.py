"""Live OHLCV bars for many symbols and intervals, built from one stream of quote ticks.

`BarAggregator` is pure and synchronous: it reads no clock (every time is passed in), does no I/O and
never blocks. The caller (a quote service) feeds it ticks, calls `close_due(now)` from a timer, reads
forming bars when it wants to push or cache them, and persists/publishes what comes back.

Rules (each has a unit test named for it):

* **Alignment.** A bar covers the half-open period [open, close) of a bar of the symbol's trading calendar
  (`set_calendar`; by default 24x7 UTC, whose bars are the grid of `Interval.align` / `Interval.next_open`):
  intraday bars anchored at each session's open, the last one cut at the session's close; daily, weekly and
  monthly bars per trading day, week and month (`SessionCalendar`), so a live bar has the key and the period
  of the source's bar. `bar.time` is its open time. Tick times are float epoch seconds; a tick at `t`
  belongs to the bar containing `int(t)` (floor), and `t >= close` is outside the bar.
* **Outside the sessions.** A tick at a time the calendar does not trade (pre- and post-market trades of a
  regular-session calendar, a holiday) builds no bar: its price is ignored, its volume is counted in no bar
  (its total still moves the reference, so the next bar does not absorb it), it is counted in
  `out_of_session_ticks`, and, as any tick, it closes the bars whose close time it has passed (the feed's
  clock passed them). Extended hours are another calendar: `set_calendar` with it and those ticks count.
* **Volume.** A tick's `cumulative_volume` is the upstream's session-cumulative total. The *reference* is
  the highest total seen in the current session. Each accepted tick contributes a *delta*, added to the
  forming bar of every interval:
  - the first total seen for a symbol, and the first after an outage (`interrupt`), contributes 0 and
    becomes the reference (a session reset hidden by a disconnect creates no volume; the bar's volume
    comes from the source's history when it is seeded);
  - a total at or above the reference contributes `total - reference` and becomes the reference;
  - a total below the reference but not below half of it is a revision of the upstream's count (e.g.
    1,000,010 → 1,000,009.9): it contributes 0 and the reference stays, so the next growth counts only
    what exceeds the highest total; no volume is created or lost;
  - a total below half of the reference starts a new session: it contributes the new total itself (the
    volume traded since the session began) and becomes the reference;
  - `None` contributes 0 and keeps the reference;
  - so the first tick of a bar contributes the increase since the symbol's previous tick (volume traded
    between two ticks is attributed to the bar of the later tick), and a repeated tick or an upstream
    snapshot re-sent adds only what the total grew by (0 if identical).
* **Stale ticks.** Per symbol a *watermark* is kept: the latest open time of any of its bars, raised to a
  bar's close time when `close_due` closes it. A tick with `time < watermark` is stale: it is ignored
  entirely (no price, no volume, the previous total is kept, so its volume is not lost: it is counted by
  the next accepted tick) and counted in `stale_ticks(symbol)` / `stale_ticks_total`. The rule is per
  symbol, not per interval, so all intervals of a symbol see the same ticks and their volumes agree.
  Callers that expect late ticks should call `close_due(now - grace)`.
* **Late but not stale ticks** (`watermark <= time < latest tick time`; they always fall inside the
  forming bar of every interval): they update high and low, set the open if earlier than the bar's first
  tick, never change the close (the close is the price of the latest tick by time; among equal times the
  last to arrive wins). Their volume counts only if their total is above the previous total (an older
  reading with a lower total is not a new session); the higher total then becomes the reference.
* **Closing by feed time.** A bar closes when a tick stamped at or after its close time arrives for its
  symbol (the feed's own clock passed it), or when `close_due(now, grace)` finds
  `now - delay - grace >= close`, where `delay` is the symbol's effective delay: the larger of the delay
  its ticks declare (`QuoteTick.delay`) and the lag observed between their trade times and their arrival
  (`feed_lag`, from ticks given a `received_at`). So a feed lagging 3 s or delayed 900 s keeps each bar
  open until its own trades have passed the bar's end, and the wall-clock timer is only the fallback for
  a feed that falls silent. Every closed bar is reported exactly once, as a `BarUpdate` with
  `closed=True`.
* **Intervals at runtime.** `add_interval` starts that interval's first bar with the symbol's next
  accepted tick (the bar containing that tick, so it may miss the start of its period:
  `full_period=False`). `remove_interval` drops the forming bars of that interval; they are returned as
  `closed=False` updates for the caller to persist or ignore, and are never reported as closed.
* **Flush.** `flush()` returns a snapshot of every forming bar (`closed=False`, partial: it does not
  reach the end of its period) so the caller can persist it on stop/shutdown, and keeps them forming: if
  ticks resume, the bars continue and are reported once more when they close, superseding the snapshot
  (same series and time). `remove_symbol` does the same for one symbol and forgets it.
* **Partial bars.** A bar is complete (`OHLCVBar.partial` False, `BarUpdate.full_period` True) when the
  aggregator built it from the start of its period or it was seeded. The first bar after a symbol's
  first tick, after `add_interval` and after an outage is partial, and so is every snapshot of a bar
  still forming taken by `flush`/`remove_symbol`/`remove_interval`. A partial bar should never replace a
  complete stored one (`OHLCVBar.supersedes`).
* **Seeding.** `seed(symbol, bar)` gives the forming bar of `bar.interval` the source's values for that
  period (TradingView sends the forming bar with the history): open, close and volume from the source,
  high and low widened by the ticks already applied to that period; the bar is complete and later ticks
  extend it. A seed for the period after the forming one closes the forming bar and starts the seed's;
  a seed older than the forming bar, or for a period the timer already closed, is not applied (the
  caller stores it as a closed bar); nor is a seed whose time is no bar open of the symbol's calendar.
  Volume traded while the seed was being fetched may be counted twice or missed: the next sync replaces the
  bar with the source's.
* **Outages.** `interrupt(symbol)` (the feed disconnected) marks the symbol's forming bars and the next
  bar of each interval partial until seeded, and makes its next total a fresh reference.
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from src.domain.errors import InvalidQuote, NotABarOpen
from src.domain.market_data.bar import OHLCVBar
from src.domain.market_data.calendar import SessionCalendar
from src.domain.market_data.instrument import Instrument
from src.domain.market_data.interval import Interval
from src.domain.market_data.quote import QuoteTick
from src.domain.market_data.series import SeriesKey
from src.domain.market_data.symbol import Symbol
from src.domain.realtime.feed_lag import FeedLag

_INTERVAL_ORDER = {interval: index for index, interval in enumerate(Interval)}
REVISION_FLOOR = 0.5  # a drop of the cumulative total to at least this share of it is a revision


@dataclass(frozen=True, slots=True)
class BarUpdate:
    """A bar of one instrument, as the aggregator reports it: closed (final) or forming/partial."""

    instrument: Instrument
    bar: OHLCVBar
    closed: bool

    @property
    def full_period(self) -> bool:
        """The bar covers its period (it is not partial)."""
        return not self.bar.partial

    @property
    def symbol(self) -> Symbol:
        return self.instrument.symbol

    @property
    def key(self) -> SeriesKey:
        return SeriesKey(self.instrument.symbol, self.bar.interval, self.instrument.source)


_NO_UPDATES: tuple[BarUpdate, ...] = ()


class _Slot:
    """The forming bar of one (symbol, interval): mutable, no validation, materialised on demand."""

    __slots__ = (
        "close",
        "end",
        "first_time",
        "full_period",
        "has_bar",
        "high",
        "interval",
        "low",
        "open",
        "open_time",
        "seconds",
        "tracking",
        "volume",
    )

    def __init__(self, interval: Interval) -> None:
        self.interval = interval
        # Fixed-length intraday intervals align with one modulo; 1d/1w/1M go through `Interval`.
        self.seconds = interval.seconds if interval.is_intraday else 0
        self.has_bar = False
        self.tracking = False  # True once a bar was opened: later bars cover their whole period
        self.open_time = 0
        self.end: float = 0.0  # close time of the forming bar; 0 so that the first tick opens one
        self.first_time = 0.0
        self.full_period = False
        self.open = self.high = self.low = self.close = self.volume = 0.0

    def start(self, time: float, price: float, delta: float, state: "_SymbolState") -> None:
        floor = int(time)
        seconds = self.seconds
        interval = self.interval
        if state.calendar is not None:
            self.open_time, self.end = state.bar_span(interval, floor)
        else:
            self.open_time = floor - floor % seconds if seconds else interval.align(floor)
            self.end = self.open_time + seconds if seconds else interval.next_open(self.open_time)
        self.first_time = time
        self.open = self.high = self.low = self.close = price
        self.volume = delta
        self.full_period = self.tracking
        self.tracking = True
        self.has_bar = True

    def materialise(self, instrument: Instrument, *, closed: bool, snapshot: bool = False) -> BarUpdate:
        """The bar as a validated value; a `snapshot` of a bar still forming is partial (it stops short)."""
        partial = snapshot or not self.full_period
        bar = OHLCVBar(
            self.interval, self.open_time, self.open, self.high, self.low, self.close, self.volume, partial
        )
        return BarUpdate(instrument, bar, closed)

    def seed(self, bar: OHLCVBar, end: int, ticked: bool) -> None:
        """The source's values for this slot's period (closing at `end`); `ticked`: ticks were already applied
        to it."""
        self.open_time, self.end = bar.time, end
        self.open, self.close, self.volume = bar.open, bar.close, bar.volume
        self.high = max(bar.high, self.high) if ticked else bar.high
        self.low = min(bar.low, self.low) if ticked else bar.low
        self.first_time = float(bar.time)
        self.full_period = self.tracking = self.has_bar = True


class _SymbolState:
    __slots__ = ("calendar", "delay", "instrument", "lag", "last_time", "last_total",
                 "outside_ticks", "slots", "span_end", "span_start", "stale_ticks", "watermark")

    def __init__(self, instrument: Instrument, intervals: Iterable[Interval]) -> None:
        self.instrument = instrument
        self.slots = [_Slot(interval) for interval in intervals]
        self.last_time = -math.inf  # latest accepted tick time
        self.last_total: float | None = None  # reference cumulative volume: the session's highest
        self.watermark = -math.inf  # ticks before this are stale
        self.stale_ticks = 0
        self.outside_ticks = 0
        self.delay = 0.0  # as the ticks declare it
        self.lag = FeedLag()
        # The calendar (None: 24x7 UTC, the grid) and the session holding the latest in-session tick; ticks
        # inside it need no calendar look-up.
        self.calendar: SessionCalendar | None = None
        self.span_start, self.span_end = -math.inf, math.inf

    def use(self, calendar: SessionCalendar) -> None:
        self.calendar = None if calendar.is_utc_grid else calendar
        self.span_start, self.span_end = -math.inf, math.inf
        if self.calendar is not None:
            self.span_end = -math.inf  # the first tick looks its session up

    def enter(self, time: float) -> bool:
        """Whether `time` trades; when it does, its session becomes the cached span. Outside the sessions the
        span is emptied, so each such tick asks the calendar (its own memo makes that cheap)."""
        assert self.calendar is not None
        start, end, trading = self.calendar.span_at(int(time))
        self.span_start, self.span_end = (start, end) if trading else (math.inf, -math.inf)
        return trading

    def trading_at(self, time: float) -> bool:
        return self.span_start <= time < self.span_end or self.enter(time)

    def bar_span(self, interval: Interval, t: int) -> tuple[int, int]:
        """[open, close) of the calendar's bar holding `t`, inside the cached session span."""
        if interval.is_intraday:
            seconds, session_open = interval.seconds, int(self.span_start)
            opened = session_open + (t - session_open) // seconds * seconds
            return opened, min(opened + seconds, int(self.span_end))
        assert self.calendar is not None
        found = self.calendar.bar_of(t, interval)
        assert found is not None  # `t` is inside a session
        return found, self.calendar.bar_close(found, interval)

    def close_of(self, bar: OHLCVBar) -> int | None:
        """The close of a bar opening at `bar.time`, None when that is no bar open of the calendar."""
        if self.calendar is None:
            return None if not bar.interval.is_aligned(bar.time) else bar.interval.next_open(bar.time)
        try:
            return self.calendar.bar_close(bar.time, bar.interval)
        except NotABarOpen:
            return None

    def effective_delay(self, now: float) -> float:
        observed = self.lag.lag(now)
        return self.delay if observed is None else max(self.delay, observed)

    def delta(self, total: float) -> float:
        """The volume an in-order tick's total adds, moving the reference (see the Volume rule)."""
        reference = self.last_total
        if reference is None:
            self.last_total = total
            return 0.0
        if total >= reference:
            self.last_total = total
            return total - reference
        if total >= reference * REVISION_FLOOR:
            return 0.0  # a revision of the count: nothing traded, the highest total stays the reference
        self.last_total = total
        return total  # a new session

    def roll(
        self, slot: _Slot, time: float, price: float, delta: float, closed: list[BarUpdate] | None
    ) -> list[BarUpdate] | None:
        """Close the slot's bar (if any), open the one containing `time`; returns the closed bars."""
        if slot.has_bar:
            update = slot.materialise(self.instrument, closed=True)
            if closed is None:
                closed = [update]
            else:
                closed.append(update)
        slot.start(time, price, delta, self)
        self.watermark = max(self.watermark, slot.open_time)
        return closed

    def close_passed(self, time: float, closed: list[BarUpdate] | None) -> list[BarUpdate] | None:
        """Close the forming bars whose close time `time` has reached (a tick outside the sessions)."""
        for slot in self.slots:
            if slot.has_bar and time >= slot.end:
                update = slot.materialise(self.instrument, closed=True)
                closed = [update] if closed is None else [*closed, update]
                slot.has_bar = False
                self.watermark = max(self.watermark, slot.end)
        return closed


class BarAggregator:
    """Builds live bars at every configured interval for every symbol of one source it sees. See the
    module rules."""

    def __init__(self, intervals: Iterable[Interval] = (), *, source: str) -> None:
        self.source = source
        self._intervals: list[Interval] = sorted(set(intervals), key=_INTERVAL_ORDER.__getitem__)
        self._symbols: dict[Symbol, _SymbolState] = {}
        self._stale_total = 0
        self._outside_total = 0

    # -- configuration ---------------------------------------------------------------------------

    @property
    def intervals(self) -> tuple[Interval, ...]:
        return tuple(self._intervals)

    @property
    def symbols(self) -> tuple[Symbol, ...]:
        return tuple(self._symbols)

    def add_interval(self, interval: Interval) -> None:
        """Start building `interval`; its first bar per symbol opens with that symbol's next tick."""
        if interval in self._intervals:
            return
        self._intervals.append(interval)
        self._intervals.sort(key=_INTERVAL_ORDER.__getitem__)
        position = self._intervals.index(interval)
        for state in self._symbols.values():
            state.slots.insert(position, _Slot(interval))

    def remove_interval(self, interval: Interval) -> list[BarUpdate]:
        """Stop building `interval`; its forming bars are dropped and returned (closed=False)."""
        if interval not in self._intervals:
            return []
        position = self._intervals.index(interval)
        del self._intervals[position]
        dropped = []
        for state in self._symbols.values():
            slot = state.slots.pop(position)
            if slot.has_bar:
                dropped.append(slot.materialise(state.instrument, closed=False, snapshot=True))
        return dropped

    def set_intervals(self, intervals: Iterable[Interval]) -> list[BarUpdate]:
        """Add and remove intervals to match `intervals`; returns the dropped forming bars."""
        wanted = set(intervals)
        dropped = []
        for interval in [i for i in self._intervals if i not in wanted]:
            dropped.extend(self.remove_interval(interval))
        for interval in wanted:
            self.add_interval(interval)
        return dropped

    def set_calendar(self, symbol: Symbol, calendar: SessionCalendar) -> list[BarUpdate]:
        """Build `symbol`'s bars on `calendar` from now on. Forming bars built on another calendar are dropped
        and returned (closed=False, partial) for the caller to persist or ignore; the next tick opens new ones."""
        state = self._state(symbol)
        wanted = None if calendar.is_utc_grid else calendar
        if wanted == state.calendar:
            return []
        dropped = [slot.materialise(state.instrument, closed=False, snapshot=True) for slot in state.slots
                   if slot.has_bar]
        state.slots = [_Slot(interval) for interval in self._intervals]
        state.use(calendar)
        return dropped

    def remove_symbol(self, symbol: Symbol) -> list[BarUpdate]:
        """Forget `symbol` (e.g. on unsubscribe); returns its forming bars (closed=False)."""
        state = self._symbols.pop(symbol, None)
        if state is None:
            return []
        return [slot.materialise(state.instrument, closed=False, snapshot=True) for slot in state.slots
                if slot.has_bar]

    # -- ticks -----------------------------------------------------------------------------------

    def on_quote(self, tick: QuoteTick, received_at: float | None = None) -> Sequence[BarUpdate]:
        """Feed one validated quote (and when it arrived, for the feed's lag); returns the bars it closed."""
        state = self._state(tick.symbol)
        state.delay = tick.delay
        if received_at is not None:
            state.lag.observe(tick.time, received_at)
        return self._apply(tick.symbol, tick.time, tick.price, tick.cumulative_volume)

    def on_tick(
        self, symbol: Symbol, time: float, price: float, cumulative_volume: float | None = None
    ) -> Sequence[BarUpdate]:
        """Feed one tick given as plain values; returns the bars it closed (usually none).

        The result is an empty tuple when nothing closed, otherwise a list in interval order. Forming
        bars are not materialised here: read them with `forming` / `forming_bars` when needed.
        """
        if not (math.isfinite(time) and time >= 0 and math.isfinite(price)):
            raise InvalidQuote(f"{symbol}: time and price must be finite, time >= 0", field="price")
        volume = cumulative_volume
        if volume is not None and not (math.isfinite(volume) and volume >= 0):
            raise InvalidQuote(f"{symbol}: volume must be finite and >= 0", field="volume")
        return self._apply(symbol, time, price, cumulative_volume)

    def _state(self, symbol: Symbol) -> _SymbolState:
        state = self._symbols.get(symbol)
        if state is None:
            state = self._symbols[symbol] = _SymbolState(Instrument(self.source, symbol), self._intervals)
        return state

    def _apply(
        self, symbol: Symbol, time: float, price: float, total: float | None
    ) -> Sequence[BarUpdate]:
        state = self._symbols.get(symbol) or self._state(symbol)
        if time < state.watermark:
            state.stale_ticks += 1
            self._stale_total += 1
            return _NO_UPDATES
        if time < state.last_time:
            return self._apply_late(state, time, price, total)
        state.last_time = time
        if (time >= state.span_end or time < state.span_start) and not state.enter(time):
            return self._outside(state, time, total)
        delta = 0.0
        if total is not None:
            reference = state.last_total
            if reference is not None and total >= reference:  # the common case, inline: the hot path
                delta = total - reference
                state.last_total = total
            else:
                delta = state.delta(total)
        closed: list[BarUpdate] | None = None
        for slot in state.slots:
            if time >= slot.end:
                closed = state.roll(slot, time, price, delta, closed)
                continue
            slot.close = price
            if price > slot.high:
                slot.high = price
            elif price < slot.low:
                slot.low = price
            slot.volume += delta
        return _NO_UPDATES if closed is None else closed

    def _outside(self, state: _SymbolState, time: float, total: float | None) -> Sequence[BarUpdate]:
        """A tick outside the calendar's sessions (see the rule): counted, its volume in no bar."""
        state.outside_ticks += 1
        self._outside_total += 1
        if total is not None:
            state.delta(total)
        closed = state.close_passed(time, None)
        return _NO_UPDATES if closed is None else closed

    def _apply_late(
        self, state: _SymbolState, time: float, price: float, total: float | None
    ) -> Sequence[BarUpdate]:
        """A tick before the symbol's latest one but not stale: inside every forming bar (or outside the
        sessions)."""
        delta = 0.0
        if total is not None:
            previous = state.last_total
            if previous is None or total > previous:
                delta = 0.0 if previous is None else total - previous
                state.last_total = total
        if state.calendar is not None and not state.trading_at(time):
            state.outside_ticks += 1
            self._outside_total += 1
            return _NO_UPDATES
        for slot in state.slots:
            if not slot.has_bar:  # an interval added since the latest tick: this tick opens it
                slot.start(time, price, delta, state)
                state.watermark = max(state.watermark, slot.open_time)
                continue
            if time < slot.first_time:
                slot.open = price
                slot.first_time = time
            if price > slot.high:
                slot.high = price
            elif price < slot.low:
                slot.low = price
            slot.volume += delta
        return _NO_UPDATES

    # -- timer, readback, shutdown ---------------------------------------------------------------

    def close_due(self, now: float, grace: float = 0.0) -> list[BarUpdate]:
        """Close every forming bar whose period ended at or before `now - grace - delay`, each symbol with its
        own effective delay (called from a timer with the wall clock)."""
        closed = []
        for state in self._symbols.values():
            due = now - grace - state.effective_delay(now)
            for slot in state.slots:
                if slot.has_bar and slot.end <= due:
                    closed.append(slot.materialise(state.instrument, closed=True))
                    slot.has_bar = False
                    state.watermark = max(state.watermark, slot.end)
        return closed

    def forming(self, symbol: Symbol, interval: Interval) -> OHLCVBar | None:
        """The forming bar of `symbol` at `interval`, or None (no tick yet, or closed by the timer)."""
        state = self._symbols.get(symbol)
        if state is None or interval not in self._intervals:
            return None
        slot = state.slots[self._intervals.index(interval)]
        return slot.materialise(state.instrument, closed=False).bar if slot.has_bar else None

    def forming_bars(self, symbol: Symbol) -> list[BarUpdate]:
        """Every forming bar of `symbol`, in interval order (closed=False)."""
        state = self._symbols.get(symbol)
        if state is None:
            return []
        return [slot.materialise(state.instrument, closed=False) for slot in state.slots if slot.has_bar]

    def flush(self) -> list[BarUpdate]:
        """Snapshot every forming bar (closed=False, partial) for persisting on stop; the bars keep forming."""
        return [slot.materialise(state.instrument, closed=False, snapshot=True)
                for state in self._symbols.values() for slot in state.slots if slot.has_bar]

    # -- seeding and outages ---------------------------------------------------------------------

    def seed(self, symbol: Symbol, bar: OHLCVBar) -> tuple[bool, list[BarUpdate]]:
        """Give the forming bar of `bar.interval` the source's values (see the Seeding rule). Returns whether
        the seed was applied and the bar it closed (a forming bar of the period before the seed's)."""
        if bar.interval not in self._intervals:
            return False, []
        state = self._state(symbol)
        slot = state.slots[self._intervals.index(bar.interval)]
        end = state.close_of(bar)
        if end is None:
            return False, []  # no bar open of the symbol's calendar: never a forming bar
        closed: list[BarUpdate] = []
        if slot.has_bar and bar.time < slot.open_time:
            return False, []  # older than the forming bar: a closed bar, the caller's to store
        if slot.has_bar and bar.time >= slot.end:
            closed.append(slot.materialise(state.instrument, closed=True))
            slot.has_bar = False
        elif not slot.has_bar and bar.time < slot.end:
            return False, []  # its period was closed already
        slot.seed(bar, end, ticked=slot.has_bar)
        state.watermark = max(state.watermark, bar.time)
        return True, closed

    def interrupt(self, symbol: Symbol) -> None:
        """The feed lost ticks of `symbol` (an outage): see the Outages rule."""
        state = self._symbols.get(symbol)
        if state is None:
            return
        state.last_total = None
        for slot in state.slots:
            slot.full_period = slot.tracking = False

    # -- counters --------------------------------------------------------------------------------

    def stale_ticks(self, symbol: Symbol) -> int:
        state = self._symbols.get(symbol)
        return 0 if state is None else state.stale_ticks

    @property
    def stale_ticks_total(self) -> int:
        return self._stale_total

    def out_of_session_ticks(self, symbol: Symbol) -> int:
        state = self._symbols.get(symbol)
        return 0 if state is None else state.outside_ticks

    @property
    def out_of_session_ticks_total(self) -> int:
        return self._outside_total
