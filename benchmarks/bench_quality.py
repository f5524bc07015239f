"""Data quality checks: a whole series, and one closed bar on the live path.

`quality_checks_100k_bars_ms`: `run_checks` (every check, the 24x7 calendar given, so missing bars are
checked too) over 100,000 1m bars with a handful of anomalies (bad ticks, a wick, a level shift, a gap, a
zero-volume run, a flat run); median of 7 rounds.
`quality_columns_from_lists_ms`: building the `SeriesColumns` of those bars from Python lists (what
`OHLCVRepository.read` returns today); median of 7 rounds.
`quality_check_closed_bar_us`: `check_closed_bar` per bar, default thresholds, a rolling tail of
`tail_bars` previous bars, 20,000 bars in a row; median of 5 rounds.
`agg_ticks_per_s_with_quality` and `agg_quality_overhead_ratio`: the aggregator benchmark's 300,000 ticks
(10 symbols, 8 intervals) with `check_closed_bar` on every closed bar (a tail per series, a baseline of
typical scales), and that rate divided by the rate without checks, measured alternately in the same
run; best of 5 each.
`agg_ticks_per_s_with_quality_slice` and `agg_quality_slice_overhead_ratio`: the same ticks with every closed
bar handed to the quality slice's live path (`LiveQuality.on_closed`, as the `BarCompletedEvent` subscriber
does: its tail per series, the calendar lookup, the checks; the store in memory, touched only on findings),
on an event loop; best of 3 each, against the aggregator alone on the same loop.
"""

import asyncio
import statistics
import time
from collections import deque

import numpy as np

from benchmarks.bench_aggregator import INTERVALS, Tick, make_ticks
from src.common import cache_keys
from src.domain.market_data import BarColumns, SessionCalendar
from src.domain.market_data.bar import OHLCVBar
from src.domain.market_data.interval import Interval
from src.domain.market_data.series import SeriesKey
from src.domain.quality import ReconciliationPolicy
from src.domain.quality.live import LiveBaseline, check_closed_bar
from src.domain.quality.model import CheckContext, QualityThresholds, SeriesColumns
from src.domain.quality.report import run_checks
from src.domain.quality.series import SeriesQuality, Span
from src.domain.quality.spikes import MoveScales
from src.domain.realtime.aggregator import BarAggregator, BarUpdate
from src.features.quality.live import LiveQuality
from src.features.quality.monitor import QualityConfig, QualityMonitor
from src.features.quality.observed import QualityFigures
from src.infrastructure.cache.memory_cache import MemoryCache

BARS = 100_000
LIVE_BARS = 20_000
START = 1_735_689_600  # 2025-01-01 00:00 UTC
THRESHOLDS = QualityThresholds()
EXPECTED_FINDINGS = {
    "price_spikes": 4, "level_shifts": 1, "missing_session_bars": 1, "zero_volume_runs": 1, "flat_bars_runs": 1,
}


def make_series(count: int = BARS, seed: int = 11) -> SeriesColumns:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.001, count)))
    close[60_000:] *= 1.15  # a level shift
    for at in (10_000, 30_000, 70_000):  # bad ticks
        close[at] *= 1.1
    open_ = np.concatenate(([close[0]], close[:-1]))
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.0005, count)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.0005, count)))
    high[50_000] *= 1.08  # a bad high tick
    volume = rng.uniform(1, 50, count)
    volume[20_000:20_040] = 0  # a zero-volume run
    flat = slice(80_000, 80_035)
    open_[flat] = high[flat] = low[flat] = close[flat] = close[79_999]
    keep = np.ones(count, dtype=bool)
    keep[40_000:40_005] = False  # a gap
    times = START + 60 * np.arange(count, dtype=np.int64)
    return SeriesColumns.of(times, open_, high, low, close, volume).take(keep)


def _median_seconds(work, rounds: int) -> float:  # type: ignore[no-untyped-def]
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def _live_bars(series: SeriesColumns) -> list[OHLCVBar]:
    rows = zip(*(column[:LIVE_BARS].tolist() for column in (series.time, *series.price_columns)), strict=True)
    return [OHLCVBar(Interval.M1, t, o, h, lo, c, v) for t, o, h, lo, c, v in rows]


def _close_bars(bars: list[OHLCVBar], baseline: LiveBaseline) -> int:
    tail: deque[OHLCVBar] = deque(maxlen=THRESHOLDS.tail_bars)
    found = 0
    for bar in bars:
        found += len(check_closed_bar(bar, tail, now=bar.time + 60, thresholds=THRESHOLDS, baseline=baseline))
        tail.append(bar)
    return found


def _aggregate(ticks: list[Tick], on_closed) -> int:  # type: ignore[no-untyped-def]
    aggregator = BarAggregator(INTERVALS, source="tradingview")
    next_timer = int(ticks[0][1]) + 1
    closed = 0
    for symbol, t, price, total in ticks:
        if t >= next_timer:
            closed += on_closed(aggregator.close_due(next_timer), next_timer)
            next_timer = int(t) + 1
        closed += on_closed(aggregator.on_tick(symbol, t, price, total), t)
    return closed


def _checking_closed_bars():  # type: ignore[no-untyped-def]
    """A fresh `on_closed` callback that checks each closed bar against its series' tail."""
    baseline = LiveBaseline(MoveScales(0.0, 0.0005, 0.001), has_volume=True)
    tails: dict[SeriesKey, deque[OHLCVBar]] = {}

    def check(updates: list[BarUpdate], now: float) -> int:
        for update in updates:
            tail = tails.setdefault(update.key, deque(maxlen=THRESHOLDS.tail_bars))
            check_closed_bar(update.bar, tail, now=int(now), thresholds=THRESHOLDS, baseline=baseline)
            tail.append(update.bar)
        return len(updates)

    return check


def _aggregator_rates(rounds: int = 5) -> tuple[float, float]:
    """Best rate with and without checks; the two alternate so that load from elsewhere hits both alike."""
    ticks = make_ticks()
    with_checks, without_checks = [], []
    for _ in range(rounds):
        without_checks.append(_median_seconds(lambda: _aggregate(ticks, lambda updates, now: len(updates)), 1))
        with_checks.append(_median_seconds(lambda: _aggregate(ticks, _checking_closed_bars()), 1))
    return len(ticks) / min(with_checks), len(ticks) / min(without_checks)


# Every series as if fully checked before (typical scales, with volume): the live path runs every rule.
_CHECKED = SeriesQuality(checked_at=START, scales=MoveScales(0.0, 0.0005, 0.001), has_volume=True)


class _MemoryStore:
    """The quality records and bars the live path reads, in memory (this measures the checks, not a store)."""

    def __init__(self) -> None:
        self.records: dict[SeriesKey, SeriesQuality] = {}

    async def get(self, key: SeriesKey) -> SeriesQuality | None:
        return self.records.get(key, _CHECKED)

    async def save(self, key: SeriesKey, quality: SeriesQuality) -> None:
        self.records[key] = quality

    async def list(self) -> list[tuple[SeriesKey, SeriesQuality]]:
        return list(self.records.items())

    async def excluded_spans(self, key: SeriesKey) -> tuple[Span, ...]:
        return ()

    async def read(self, key: SeriesKey, **options: object) -> BarColumns:
        return BarColumns.empty(key)


class _Clock:
    def __init__(self) -> None:
        self.at = 0.0

    def now(self) -> float:
        return self.at


_ALWAYS_OPEN = SessionCalendar.always_open()


async def _always_open(key: SeriesKey) -> SessionCalendar:
    return _ALWAYS_OPEN


def _live_quality(clock: _Clock) -> LiveQuality:
    from src.common.event_bus import EventBus

    store = _MemoryStore()
    config = QualityConfig(thresholds=THRESHOLDS, policy=ReconciliationPolicy.KEEP_LIVE, history_size=10,
                           max_flags=10_000, max_bars=1)
    cache = MemoryCache(generation_of=cache_keys.series_generation)
    monitor = QualityMonitor(bars=store, store=store, providers=None, cache=cache, event_bus=EventBus(),  # type: ignore[arg-type]
                             clock=clock, hours_of=None, config=config, figures=QualityFigures())  # type: ignore[arg-type]
    return LiveQuality(monitor, store, EventBus(), clock, _always_open)  # type: ignore[arg-type]


async def _aggregate_on_loop(ticks: list[Tick], with_slice: bool) -> float:
    clock = _Clock()
    live = _live_quality(clock) if with_slice else None
    aggregator = BarAggregator(INTERVALS, source="tradingview")
    next_timer = int(ticks[0][1]) + 1
    started = time.perf_counter()
    for symbol, t, price, total in ticks:
        closed = aggregator.on_tick(symbol, t, price, total)
        if t >= next_timer:
            closed = [*aggregator.close_due(next_timer), *closed]
            next_timer = int(t) + 1
        if closed and live is not None:
            clock.at = t
            for update in closed:
                await live.on_closed(update.key, update.bar)
    return time.perf_counter() - started


def _slice_rates(rounds: int = 3) -> tuple[float, float]:
    ticks = make_ticks()
    with_slice, alone = [], []
    for _ in range(rounds):
        alone.append(asyncio.run(_aggregate_on_loop(ticks, with_slice=False)))
        with_slice.append(asyncio.run(_aggregate_on_loop(ticks, with_slice=True)))
    return len(ticks) / min(with_slice), len(ticks) / min(alone)


def run() -> dict[str, float]:
    series = make_series()
    expected = START + 60 * np.arange(BARS, dtype=np.int64)
    context = CheckContext(now=int(series.time[-1]) + 60, interval_seconds=60, expected_times=expected)
    report = run_checks(series, context, THRESHOLDS)
    assert {r.name: len(r.anomalies) for r in report.failed} == EXPECTED_FINDINGS, report.failed
    checks = _median_seconds(lambda: run_checks(series, context, THRESHOLDS), rounds=7)
    lists = [column.tolist() for column in (series.time, *series.price_columns)]
    from_lists = _median_seconds(lambda: SeriesColumns.of(*lists), rounds=7)
    bars = _live_bars(series)
    baseline = LiveBaseline.of(report)
    closed = _median_seconds(lambda: _close_bars(bars, baseline), rounds=5)
    with_checks, without_checks = _aggregator_rates()
    with_slice, slice_baseline = _slice_rates()
    return {
        "agg_ticks_per_s_with_quality_slice": float(round(with_slice)),
        "agg_quality_slice_overhead_ratio": round(with_slice / slice_baseline, 3),
        "agg_ticks_per_s_with_quality": float(round(with_checks)),
        "agg_quality_overhead_ratio": round(with_checks / without_checks, 3),
        "quality_checks_100k_bars_ms": round(checks * 1e3, 2),
        "quality_columns_from_lists_ms": round(from_lists * 1e3, 2),
        "quality_check_closed_bar_us": round(closed / len(bars) * 1e6, 2),
    }


if __name__ == "__main__":
    print(run())
