"""Live bars caught up with the source's history: seeding, backfill, and bars settled from the source.

When a symbol is subscribed (also after a restart), and after every reconnect of its feed, each live
interval is fetched from the source's history, from `since` (the last stored bar of the series on
subscribe, the bar forming when the outage began after a reconnect) up to the bar forming at the source
when it answers, at most `max_bars` bars (asked again, once, reaching back to `since`, when the feed moved
on to later periods while the source answered):
* every bar but the newest is complete and closed: it is written (replacing partial bars the live path
  stored for those periods, e.g. bars that straddled the outage) and published like any completed bar;
* the newest is the source's forming bar: it seeds the aggregator's forming bar (`BarAggregator.seed`),
  which ticks then extend.

Why bars are *settled* from the source: the history is a snapshot taken at some moment while ticks keep
arriving, on another channel or behind it on the same one; which ticks it already holds cannot be told
(a tick may be counted twice, or overwritten by the seed). So:
* **while a catch-up of a symbol runs, the bars its ticks close are held**, not written or published;
  when it ends, a held bar whose period the history delivered closed is dropped (the history's bar was
  written instead), and every other held bar is settled;
* **a seeded bar is settled when it closes**, and so is a newest bar whose period ended (the feed moved
  past it) before the source's answer could seed it;
* settling a bar fetches its period again (`fetch_range`), now that it is over, and writes the source's
  bar; if the source has none or fails, the bar is written as built.
Bars are asked for on the symbol's calendar (`hours`) and those that are no bar open of it are left out
(never moved), as a sync does.
So what is stored and published for each period is written once and is the source's, whatever the
timing; the forming bar seen live is the seed extended by ticks. A failed catch-up fetch leaves the bars
as they are: partial until a sync replaces them.
"""

import asyncio
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

import structlog

from src.common.ports import Clock, HistoryProvider
from src.domain.market_data import Instrument, Interval, OHLCVAggregate, OHLCVBar, SeriesKey
from src.domain.market_data.calendar import SessionCalendar
from src.domain.market_data.trading_hours import ALWAYS_OPEN_HOURS, TradingHours
from src.domain.realtime.aggregator import BarAggregator, BarUpdate

log = structlog.get_logger("quotes.catch_up")

MAX_BARS = 1_000
Period = tuple[Interval, int]  # (interval, bar open time)


class CatchUp:
    """One source's catch-ups. `emit` takes a closed bar to store and publish; `claims` is asked first by
    the tick path for every bar it closes."""

    def __init__(self, history: HistoryProvider, aggregator: BarAggregator, clock: Clock,
                 emit: Callable[[BarUpdate], None], *, max_bars: int = MAX_BARS) -> None:
        self._history = history
        self._aggregator = aggregator
        self._clock = clock
        self._emit = emit
        self._max_bars = max_bars
        self._held: dict[Instrument, list[BarUpdate]] = {}  # while catch-ups of the instrument run
        self._runs: dict[Instrument, int] = {}
        self._seeded: dict[Instrument, set[Period]] = {}  # settled when they close
        self._hours: dict[Instrument, TradingHours] = {}  # the calendar of each caught-up instrument
        self._settling: set[asyncio.Task[None]] = set()
        self.backfilled = 0  # closed bars written from history
        self.seeded = 0  # forming bars seeded
        self.settled = 0  # bars written as the source has them once their period was over
        self.failed = 0  # fetches that failed

    # --- the tick path -----------------------------------------------------------------------------

    def claims(self, update: BarUpdate) -> bool:
        """Whether this bar, just closed by the tick path, is taken over (held, or settled)."""
        held = self._held.get(update.instrument)
        if held is not None:
            held.append(update)
            return True
        seeded = self._seeded.get(update.instrument)
        period = (update.bar.interval, update.bar.time)
        if seeded is None or period not in seeded:
            return False
        seeded.discard(period)
        self._spawn(self._settle(update.instrument, [update]))
        return True

    def forget(self, instrument: Instrument) -> None:
        self._seeded.pop(instrument, None)
        self._hours.pop(instrument, None)

    async def wait(self) -> None:
        """Until every bar being settled is written."""
        await asyncio.gather(*self._settling, return_exceptions=True)

    async def cancel(self) -> None:
        for task in list(self._settling):
            task.cancel()
        await self.wait()

    # --- catching up -------------------------------------------------------------------------------

    async def run(self, instrument: Instrument, since: Callable[[Interval], int | None], latest: float = 0.0,
                  hours: TradingHours = ALWAYS_OPEN_HOURS) -> None:
        """Catch every live interval of `instrument` up, the intervals at once; `latest` is the newest trade
        time seen (a feed's clock may run ahead of ours)."""
        self._hours[instrument] = hours
        self._runs[instrument] = self._runs.get(instrument, 0) + 1
        self._held.setdefault(instrument, [])
        backfilled: set[Period] = set()
        now = int(max(self._clock.now(), latest))
        try:
            await asyncio.gather(*(self._interval(instrument, i, since(i), now, backfilled)
                                   for i in self._aggregator.intervals))
        except BaseException:  # cancelled (a stop): what was held is written as built
            for update in self._release(instrument):
                self._emit(update)
            raise
        held = self._release(instrument)
        await self._settle(instrument, [u for u in held if (u.bar.interval, u.bar.time) not in backfilled])

    def _release(self, instrument: Instrument) -> list[BarUpdate]:
        """The held bars once the last catch-up of `instrument` ends (none before)."""
        self._runs[instrument] -= 1
        if self._runs[instrument]:
            return []
        del self._runs[instrument]
        return self._held.pop(instrument)

    async def _interval(self, instrument: Instrument, interval: Interval, since: int | None, now: int,
                        backfilled: set[Period]) -> None:
        hours = self._hours_of(instrument)
        try:
            fetched = await self._fetch(instrument, interval, since, now, hours)
            bars, refused = OHLCVAggregate.fitting(SeriesKey(instrument.symbol, interval, instrument.source),
                                                   fetched, hours.calendar)
        except Exception as error:  # the bars stay partial; a sync repairs them (DomainError included)
            self._failed(instrument, interval, error)
            return
        if refused:
            log.warning("quotes_catch_up_bars_rejected", instrument=str(instrument), interval=interval.code,
                        count=len(refused), first=refused[0].reason)
        self._apply(instrument, [b for b in bars.bars if since is None or b.time >= since], backfilled)

    async def _fetch(self, instrument: Instrument, interval: Interval, since: int | None, now: int,
                     hours: TradingHours) -> list[OHLCVBar]:
        """The source's newest bars back to `since`: asked again, once, if a full answer falls short of it
        (the feed moved on to later periods while the source answered)."""
        count = periods_between(interval, since, now, self._max_bars, hours.calendar)
        bars = await self._history.fetch_bars(instrument.symbol, interval, count, hours=hours)
        if since is not None and bars and len(bars) >= count and count < self._max_bars \
                and bars[0].time > since:
            count = periods_between(interval, since, bars[-1].time, self._max_bars, hours.calendar)
            bars = await self._history.fetch_bars(instrument.symbol, interval, count, hours=hours)
        return bars

    def _hours_of(self, instrument: Instrument) -> TradingHours:
        return self._hours.get(instrument, ALWAYS_OPEN_HOURS)

    def _apply(self, instrument: Instrument, bars: list[OHLCVBar], backfilled: set[Period]) -> None:
        if not bars:
            return
        *closed, newest = bars
        for bar in closed:
            backfilled.add((bar.interval, bar.time))
            self.backfilled += 1
            self._emit(BarUpdate(instrument, bar, closed=True))
        applied, rolled = self._aggregator.seed(instrument.symbol, newest)
        held = self._held[instrument]
        held.extend(rolled)  # the forming bar of an earlier period, closed by the seed
        if applied:
            self.seeded += 1
            self._seeded.setdefault(instrument, set()).add((newest.interval, newest.time))
        else:  # its period is over for the feed already: the source's final bar is fetched at the end
            held.append(BarUpdate(instrument, newest, closed=True))

    # --- settling ----------------------------------------------------------------------------------

    async def _settle(self, instrument: Instrument, updates: Iterable[BarUpdate]) -> None:
        """Write each closed bar as the source has it, or as built where the source has none."""
        by_interval: dict[Interval, dict[int, BarUpdate]] = {}
        for update in updates:
            bars = by_interval.setdefault(update.bar.interval, {})
            bars[update.bar.time] = _preferred(bars.get(update.bar.time), update)
        for interval, bars in by_interval.items():
            try:
                source = await self._final(instrument, interval, min(bars), max(bars))
            except BaseException:
                for update in bars.values():  # cancelled: written as built
                    self._emit(update)
                raise
            for time in sorted(bars):
                self.settled += time in source
                self._emit(BarUpdate(instrument, source[time], closed=True) if time in source else bars[time])

    async def _final(self, instrument: Instrument, interval: Interval, first: int, last: int) -> dict[int, OHLCVBar]:
        try:
            bars = await self._history.fetch_range(instrument.symbol, interval, first, last,
                                                   hours=self._hours_of(instrument))
        except Exception as error:
            self._failed(instrument, interval, error)
            return {}
        return {bar.time: bar for bar in bars}

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work, name="quotes settle bar")
        self._settling.add(task)
        task.add_done_callback(self._settling.discard)

    def _failed(self, instrument: Instrument, interval: Interval, error: Exception) -> None:
        self.failed += 1
        log.warning("quotes_catch_up_failed", instrument=str(instrument), interval=interval.code,
                    error=f"{type(error).__name__}: {error}")


def _preferred(earlier: BarUpdate | None, later: BarUpdate) -> BarUpdate:
    """Of two closed bars of one period (the tick path's and the history's newest), the complete one."""
    return later if earlier is None or (earlier.bar.partial and not later.bar.partial) else earlier


def periods_between(interval: Interval, since: int | None, now: int, cap: int,
                    calendar: SessionCalendar | None = None) -> int:
    """Bars from the one opening at `since` to the one forming at `now`, both included (the calendar's; on the
    UTC grid without one), within [1, cap]; 1 without `since` (the forming bar)."""
    if since is None:
        return 1
    if calendar is not None and not calendar.is_utc_grid:
        return max(1, min(cap, len(calendar.bar_times(interval, since, now))))
    first, current = interval.align(since), interval.align(now)
    if interval.seconds:
        count = (current - first) // interval.seconds + 1
    else:
        count, t = 1, first
        while t < current and count < cap:
            t, count = interval.next_open(t), count + 1
    return max(1, min(cap, count))
