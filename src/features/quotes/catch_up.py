"""Live bars caught up with the source's history: seeding and outage backfill.

When a symbol is subscribed (also after a restart), and after every reconnect of its feed, each live
interval is fetched from the source's history, from `since` (the last stored bar of the series on
subscribe, the bar forming when the outage began after a reconnect) up to the forming bar, at most
`max_bars` bars (the newest bars as many as our clock counts since `since`, then, when the source's newest
bars start after `since` because its clock ran ahead, the range between):
* every bar but the newest is complete and closed: it is written (replacing partial bars the live path
  stored for those periods, e.g. bars that straddled the outage) and published like any completed bar;
* the newest is the source's forming bar: it seeds the aggregator's forming bar (`BarAggregator.seed`);
  if the aggregator has moved past it, it is written as a closed bar too.
Bars are asked for on the symbol's calendar (`hours`) and those that are no bar open of it are left out
(never moved), as a sync does. A failed fetch leaves the bars as they are: partial until a sync replaces them.
"""

import asyncio
from collections.abc import Callable, Iterable

import structlog

from src.common.ports import Clock, HistoryProvider
from src.domain.market_data import Instrument, Interval, OHLCVAggregate, OHLCVBar, SeriesKey
from src.domain.market_data.calendar import SessionCalendar
from src.domain.market_data.trading_hours import ALWAYS_OPEN_HOURS, TradingHours
from src.domain.realtime.aggregator import BarAggregator, BarUpdate

log = structlog.get_logger("quotes.catch_up")

MAX_BARS = 1_000


class CatchUp:
    def __init__(self, history: HistoryProvider, aggregator: BarAggregator, clock: Clock,
                 on_closed: Callable[[BarUpdate], None], *, max_bars: int = MAX_BARS) -> None:
        self._history = history
        self._aggregator = aggregator
        self._clock = clock
        self._on_closed = on_closed
        self._max_bars = max_bars
        self.backfilled = 0  # closed bars written from history
        self.seeded = 0  # forming bars seeded
        self.failed = 0  # fetches that failed

    async def run(self, instrument: Instrument, since: Callable[[Interval], int | None], latest: float = 0.0,
                  hours: TradingHours = ALWAYS_OPEN_HOURS) -> None:
        """Catch every live interval of `instrument` up, the intervals at once; `latest` is the newest trade
        time seen (a feed's clock may run ahead of ours)."""
        now = int(max(self._clock.now(), latest))
        intervals = self._aggregator.intervals
        await asyncio.gather(*(self._interval(instrument, i, since(i), now, hours) for i in intervals))

    async def _interval(self, instrument: Instrument, interval: Interval, since: int | None, now: int,
                        hours: TradingHours) -> None:
        count = periods_between(interval, since, now, self._max_bars, hours.calendar)
        try:
            fetched = await self._history.fetch_bars(instrument.symbol, interval, count, hours=hours)
            if since is not None and fetched and fetched[0].time > since:  # the source's clock ran ahead of ours
                fetched = await self._history.fetch_range(instrument.symbol, interval, since, fetched[0].time - 1,
                                                          hours=hours) + fetched
            key = SeriesKey(instrument.symbol, interval, instrument.source)
            bars, refused = OHLCVAggregate.fitting(key, fetched, hours.calendar)
        except Exception as error:  # the bars stay partial; a sync repairs them (DomainError included)
            self.failed += 1
            log.warning("quotes_catch_up_failed", instrument=str(instrument), interval=interval.code,
                        error=f"{type(error).__name__}: {error}")
            return
        if refused:
            log.warning("quotes_catch_up_bars_rejected", instrument=str(instrument), interval=interval.code,
                        count=len(refused), first=refused[0].reason)
        self._apply(instrument, [b for b in bars.bars if since is None or b.time >= since])

    def _apply(self, instrument: Instrument, bars: list[OHLCVBar]) -> None:
        if not bars:
            return
        *closed, newest = bars
        self._closed(instrument, closed)
        applied, rolled = self._aggregator.seed(instrument.symbol, newest)
        for update in rolled:
            self._on_closed(update)
        if applied:
            self.seeded += 1
        else:
            self._closed(instrument, [newest])

    def _closed(self, instrument: Instrument, bars: Iterable[OHLCVBar]) -> None:
        for bar in bars:
            self.backfilled += 1
            self._on_closed(BarUpdate(instrument, bar, closed=True))


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
