"""Checks of one closed bar on the live path: bounded work per bar, plain Python (no array set-up).

`check_closed_bar` reports what the full checks would report about a series that grows by one bar,
given the bars before it (`tail`, oldest first: at least `thresholds.tail_bars` of them, or all there
are) and the `LiveBaseline` of the series' last full run (`run_checks`):

* **future_bars**: the new bar opens more than the tolerance after `now`.
* **missing_session_bars**: the bars expected between the previous bar and the new one are missing:
  `expected_between` (the calendar's open times strictly between them) or, without it, the 24x7 grid.
* **zero_volume_runs / flat_bars_runs**: the run ending at the new bar has just reached the threshold;
  it is reported once, at its first bar (the full checks later report its final length).
* **price_spikes / level_shifts**: the bar `spike_neighbours` bars before the new one is judged now that
  its neighbours after it are known, by the baseline's scales.

Without a baseline (no full run yet) the zero-volume, spike and level-shift rules are skipped.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain, islice

from src.domain.market_data.bar import OHLCVBar
from src.domain.quality.checks import future_anomaly, future_tolerance, missing_range_anomaly, run_anomaly
from src.domain.quality.model import Anomaly, QualityThresholds
from src.domain.quality.periods import next_open_after, open_before, periods_between
from src.domain.quality.report import QualityReport
from src.domain.quality.spikes import MoveScales, bad_tick_anomaly, jump_verdict, level_shift_anomaly


@dataclass(frozen=True, slots=True)
class LiveBaseline:
    """What the live path needs from the series' last full run."""

    scales: MoveScales
    has_volume: bool

    @classmethod
    def of(cls, report: QualityReport) -> "LiveBaseline":
        return cls(report.scales, report.has_volume)


def _ln(price: float) -> float:
    return math.log(price) if price > 0 else math.nan


def _missing_before(bar: OHLCVBar, previous: OHLCVBar, expected_between: Sequence[int] | None) -> Anomaly | None:
    if expected_between is not None:
        if not expected_between:
            return None
        return missing_range_anomaly(expected_between[0], expected_between[-1], len(expected_between))
    seconds = bar.interval.seconds
    count = periods_between(previous.time, bar.time, seconds)
    if not count:
        return None
    return missing_range_anomaly(next_open_after(previous.time, seconds), open_before(bar.time, seconds), count)


def _run_reaching(
    check: str, bar: OHLCVBar, tail: Sequence[OHLCVBar], length: int, in_run: Callable[[OHLCVBar], bool]
) -> Anomaly | None:
    """The run of `in_run` bars ending at `bar`, when it is exactly `length` bars long."""
    if not in_run(bar):
        return None
    newest_first = chain((bar,), islice(reversed(tail), length))
    run = 0
    for member in newest_first:
        if not in_run(member):
            break
        run += 1
    if run != length:
        return None
    first = bar if length == 1 else tail[len(tail) - (length - 1)]
    return run_anomaly(check, first.time, bar.time, length)


def _is_flat(bar: OHLCVBar) -> bool:
    return bar.open == bar.high == bar.low == bar.close


def _is_zero_volume(bar: OHLCVBar) -> bool:
    return bar.volume == 0


def _beyond_neighbours(window: Sequence[OHLCVBar], at: int, neighbours: int) -> float:
    """How far (ln) the bar at `at` lies outside its neighbours' range; NaN when a price can't be judged."""
    around = [*window[max(0, at - neighbours) : at], *window[at + 1 : at + 1 + neighbours]]
    highs, lows = [_ln(bar.high) for bar in around], [_ln(bar.low) for bar in around]
    own_high, own_low = _ln(window[at].high), _ln(window[at].low)
    if any(map(math.isnan, (own_high, own_low, *highs, *lows))):
        return math.nan
    return max(own_high - max(highs), min(lows) - own_low)


def _judge_spike(window: Sequence[OHLCVBar], scales: MoveScales, thresholds: QualityThresholds) -> Anomaly | None:
    at = len(window) - 1 - thresholds.spike_neighbours
    if at < 1:
        return None
    log_close = [_ln(bar.close) for bar in window]
    is_bad_tick, is_shift = jump_verdict(log_close, at, scales, thresholds)
    beyond = _beyond_neighbours(window, at, thresholds.spike_neighbours)
    far = beyond > scales.beyond_limit(thresholds)
    z = scales.return_z(log_close[at] - log_close[at - 1])
    bar = window[at]
    if far or is_bad_tick:
        prices = (bar.open, bar.high, bar.low, bar.close)
        return bad_tick_anomaly(bar.time, prices, z if is_bad_tick else None, beyond if far else None)
    if is_shift:
        return level_shift_anomaly(bar.time, window[at - 1].close, bar.close, z)
    return None


def check_closed_bar(
    bar: OHLCVBar,
    tail: Sequence[OHLCVBar],
    *,
    now: int,
    thresholds: QualityThresholds,
    baseline: LiveBaseline | None,
    expected_between: Sequence[int] | None = None,
) -> tuple[Anomaly, ...]:
    """Anomalies found when `bar` closes after the bars of `tail` (see the module's rules)."""
    found: list[Anomaly | None] = []
    if bar.time > now + future_tolerance(now, bar.interval.seconds, thresholds):
        found.append(future_anomaly(bar.time, now))
    if tail:
        found.append(_missing_before(bar, tail[-1], expected_between))
    found.append(_run_reaching("flat_bars_runs", bar, tail, thresholds.flat_run_bars, _is_flat))
    if baseline is not None:
        if baseline.has_volume:
            found.append(
                _run_reaching("zero_volume_runs", bar, tail, thresholds.zero_volume_run_bars, _is_zero_volume)
            )
        window = [*islice(tail, max(0, len(tail) - thresholds.spike_window), None), bar]
        found.append(_judge_spike(window, scales=baseline.scales, thresholds=thresholds))
    return tuple(anomaly for anomaly in found if anomaly is not None)
