"""The checks of each live bar as it closes (`check_closed_bar`): bounded work per bar, the store touched
only when something was found (or once, when a series starts closing live bars, to record that it owes
the source a reconciliation).

Per series this process keeps the tail of bars the checks need (read from the store once, then grown by
each closed bar) and the baseline of the series' last full run. A full run (a sync) makes the series start
over: its tail and baseline are read again on its next closed bar.
"""

from collections import deque
from dataclasses import dataclass

from src.common.correlation import get_correlation_id
from src.common.event_bus import EventBus
from src.common.ports import Clock, OHLCVRepository
from src.domain.market_data import OHLCVBar, SeriesKey
from src.domain.quality import LiveBaseline, anomaly_issue, check_closed_bar
from src.domain.quality.series import SeriesQuality
from src.features.quality.monitor import CalendarOf, QualityMonitor, identity


@dataclass(slots=True)
class _LiveSeries:
    tail: deque[OHLCVBar]
    baseline: LiveBaseline | None


class LiveQuality:
    def __init__(self, monitor: QualityMonitor, bars: OHLCVRepository, event_bus: EventBus, clock: Clock,
                 calendar_of: CalendarOf) -> None:
        self._monitor = monitor
        self._bars = bars
        self._bus = event_bus
        self._clock = clock
        self._calendar_of = calendar_of
        self._series: dict[SeriesKey, _LiveSeries] = {}

    def forget(self, key: SeriesKey) -> None:
        self._series.pop(key, None)

    async def on_closed(self, key: SeriesKey, bar: OHLCVBar) -> None:
        live = self._series.get(key)
        if live is None:
            live = self._series[key] = await self._started(key, bar)
        if live.tail and bar.time <= live.tail[-1].time:
            return  # a bar rewritten after its close (a late tick): the next full run judges it
        thresholds = self._monitor.config.thresholds
        now = int(self._clock.now())
        found = check_closed_bar(bar, live.tail, now=now, thresholds=thresholds, baseline=live.baseline,
                                 expected_between=await self._expected_between(key, live, bar))
        live.tail.append(bar)
        if not found:
            return
        before, _ = await self._monitor.save_live(
            key, lambda record: record.with_live_findings(found, now=now, max_flags=self._monitor.config.max_flags))
        known = {flag.key for flag in before.flags}
        new = [anomaly for anomaly in found if (anomaly.check, anomaly.bar_time) not in known]
        self._monitor.figures.found(new)
        for anomaly in new:
            await self._bus.publish(anomaly_issue(anomaly, identity(key), occurred_at=self._clock.now(),
                                                  correlation_id=get_correlation_id()))

    async def _started(self, key: SeriesKey, bar: OHLCVBar) -> _LiveSeries:
        """The series' tail from the store and its baseline; records that its live bars owe a reconciliation."""
        size = self._monitor.config.thresholds.tail_bars
        stored = await self._bars.read(key, end=bar.time - 1, limit=size)
        tail = deque(stored.to_bars(), maxlen=size)
        _, record = await self._monitor.save_live(key, lambda quality: quality.live_started(bar.time))
        return _LiveSeries(tail, _baseline(record))

    async def _expected_between(self, key: SeriesKey, live: _LiveSeries, bar: OHLCVBar) -> list[int] | None:
        """The calendar's bar opens strictly between the previous bar and this one (None: the 24x7 grid)."""
        if not live.tail:
            return None
        calendar = await self._calendar_of(key)
        if calendar.is_utc_grid:
            return None
        previous = live.tail[-1].time
        opens = calendar.bar_times(key.interval, previous + 1, bar.time - 1)
        return [int(t) for t in opens.tolist() if previous < t < bar.time]


def _baseline(record: SeriesQuality) -> LiveBaseline | None:
    report = record.last_report()
    return LiveBaseline.of(report) if report is not None else None
