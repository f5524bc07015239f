"""Checks of one closed bar on the live path, and their agreement with the full checks."""

import calendar
from collections import deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from src.domain.market_data import Interval, OHLCVBar
from src.domain.quality.live import LiveBaseline, check_closed_bar
from src.domain.quality.model import Anomaly, QualityThresholds, SeriesColumns
from src.domain.quality.report import run_checks
from tests.unit.domain.quality_series import (
    MINUTE,
    bars_of,
    columns_from_closes,
    context,
    grid,
    smooth_closes,
    without,
)

SHORT_RUNS = QualityThresholds(zero_volume_run_bars=5, flat_run_bars=5)
BARS = bars_of(columns_from_closes(smooth_closes(300)))
BASELINE = LiveBaseline.of(run_checks(columns_from_closes(smooth_closes(300)), context(
    columns_from_closes(smooth_closes(300))), SHORT_RUNS))
W = SHORT_RUNS.spike_neighbours


def _feed(bars: list[OHLCVBar], thresholds: QualityThresholds = SHORT_RUNS,
          baseline: LiveBaseline | None = BASELINE) -> list[tuple[int, Anomaly]]:
    """Every anomaly found while the bars close one by one, with the position of the bar that closed."""
    tail: deque[OHLCVBar] = deque(maxlen=thresholds.tail_bars)
    found = []
    for position, bar in enumerate(bars):
        found += [(position, anomaly) for anomaly in check_closed_bar(
            bar, tail, now=bar.time + MINUTE, thresholds=thresholds, baseline=baseline)]
        tail.append(bar)
    return found


def _replace(bar: OHLCVBar, **changes: float) -> OHLCVBar:
    values = {"open": bar.open, "high": bar.high, "low": bar.low, "close": bar.close, "volume": bar.volume}
    values |= changes
    return OHLCVBar(bar.interval, bar.time, values["open"], values["high"], values["low"], values["close"],
                    values["volume"])


def test_clean_bars_raise_nothing():
    assert _feed(BARS) == []


def test_a_bar_from_the_future_is_flagged_when_it_closes():
    bar = BARS[10]
    (anomaly,) = check_closed_bar(bar, BARS[:10], now=bar.time - 61, thresholds=SHORT_RUNS, baseline=BASELINE)
    assert (anomaly.check, anomaly.values) == ("future_bars", {"seconds_ahead": 61.0})


def test_a_gap_before_the_new_bar_is_a_missing_range_on_the_24x7_grid():
    (anomaly,) = check_closed_bar(BARS[20], BARS[:17], now=BARS[20].time + 60, thresholds=SHORT_RUNS,
                                  baseline=BASELINE)
    assert (anomaly.check, anomaly.span, anomaly.values) == (
        "missing_session_bars", (BARS[17].time, BARS[19].time), {"bars": 3.0},
    )


def test_no_gap_across_a_closed_night_when_the_calendar_expects_nothing_between():
    found = check_closed_bar(BARS[20], BARS[:17], now=BARS[20].time + 60, thresholds=SHORT_RUNS,
                             baseline=BASELINE, expected_between=[])
    assert found == ()


def test_the_calendar_names_the_missing_session_bars():
    (anomaly,) = check_closed_bar(BARS[20], BARS[:17], now=BARS[20].time + 60, thresholds=SHORT_RUNS,
                                  baseline=BASELINE, expected_between=[BARS[19].time])
    assert (anomaly.bar_time, anomaly.values["bars"]) == (BARS[19].time, 1.0)


def test_a_monthly_gap_counts_calendar_months():
    jan, apr = (calendar.timegm((2024, m, 1, 0, 0, 0)) for m in (1, 4))
    previous = OHLCVBar(Interval.MN1, jan, 100, 101, 99, 100, 1)
    bar = OHLCVBar(Interval.MN1, apr, 100, 101, 99, 100, 1)
    (anomaly,) = check_closed_bar(bar, [previous], now=apr + 86_400, thresholds=SHORT_RUNS, baseline=None)
    feb, mar = (calendar.timegm((2024, m, 1, 0, 0, 0)) for m in (2, 3))
    assert (anomaly.span, anomaly.values) == ((feb, mar), {"bars": 2.0})


def test_a_zero_volume_run_is_reported_once_when_it_reaches_the_threshold():
    bars = [_replace(bar, volume=0.0) if 50 <= i < 58 else bar for i, bar in enumerate(BARS)]
    found = [(position, a.bar_time, a.values["bars"]) for position, a in _feed(bars)]
    assert found == [(54, BARS[50].time, 5.0)]


def test_a_flat_run_is_reported_even_before_any_full_run():
    bars = [_replace(bar, open=100.0, high=100.0, low=100.0, close=100.0) if 50 <= i < 55 else bar
            for i, bar in enumerate(BARS)]
    found = [(position, a.check) for position, a in _feed(bars, baseline=None)]
    assert found == [(54, "flat_bars_runs")]


def test_a_bad_tick_is_judged_when_its_neighbours_after_it_have_closed():
    bars = [_replace(bar, close=bar.close * 1.2, high=bar.close * 1.2) if i == 100 else bar
            for i, bar in enumerate(BARS)]
    ((position, anomaly),) = _feed(bars)
    assert (position, anomaly.check, anomaly.bar_time) == (100 + W, "price_spikes", BARS[100].time)


def test_a_level_shift_is_judged_as_info_once_it_has_persisted():
    bars = [_replace(bar, open=bar.open * 1.2, high=bar.high * 1.2, low=bar.low * 1.2, close=bar.close * 1.2)
            if i >= 100 else bar for i, bar in enumerate(BARS)]
    bars[100] = _replace(bars[100], open=BARS[100].open, low=BARS[100].open * 0.999)
    ((position, anomaly),) = _feed(bars)
    assert (position, anomaly.check, anomaly.bar_time) == (100 + W, "level_shifts", BARS[100].time)


def test_without_a_baseline_spikes_are_not_judged():
    bars = [_replace(bar, close=bar.close * 1.2, high=bar.close * 1.2) if i == 100 else bar
            for i, bar in enumerate(BARS)]
    assert _feed(bars, baseline=None) == []


# --- agreement with the full checks ------------------------------------------------------------------

COMPARED = {"price_spikes", "level_shifts", "zero_volume_runs", "flat_bars_runs", "missing_session_bars"}
SLOTS = (40, 80, 120, 160, 200)  # anomalies are placed further apart than the live window


def _spoiled_series(steps: list[float], spoils: list[tuple[str, float]]) -> SeriesColumns:
    closes = [100.0]
    for step in steps:
        closes.append(closes[-1] * (1 + step))
    columns = columns_from_closes(closes)
    prices = [column.copy() for column in columns.price_columns]
    removed: list[int] = []
    for slot, (kind, size) in zip(SLOTS, spoils, strict=False):
        _spoil(prices, removed, slot, kind, size)
    spoiled = SeriesColumns(columns.time, *prices)
    return without(spoiled, removed) if removed else spoiled


def _spoil(prices: list, removed: list[int], slot: int, kind: str, size: float) -> None:
    o, h, lo, c, v = prices
    length = 5 + int(size * 10)
    if kind == "bad_tick":
        c[slot] *= 1 + size
        h[slot] = max(h[slot], c[slot])
    elif kind == "wick":
        h[slot] *= 1 + size
    elif kind == "shift":
        for column in (o, h, lo, c):
            column[slot:] *= 1 + size
        o[slot] /= 1 + size
        lo[slot] = min(lo[slot], o[slot])
    elif kind == "zero_volume":
        v[slot : slot + length] = 0
    elif kind == "flat":
        for column in (o, h, lo, c):
            column[slot : slot + length] = c[slot - 1]
    else:
        removed.extend(range(slot, slot + length))


spoil = st.tuples(st.sampled_from(["bad_tick", "wick", "shift", "zero_volume", "flat", "gap"]),
                  st.floats(min_value=0.1, max_value=1.0))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=-0.003, max_value=0.003), min_size=240, max_size=300),
       st.lists(spoil, max_size=len(SLOTS)))
def test_bars_closing_one_by_one_raise_what_the_full_checks_find(steps, spoils):
    series = _spoiled_series(steps, spoils)
    report = run_checks(series, context(series, expected_times=grid(series)), SHORT_RUNS)
    full = {(a.check, a.bar_time): a for a in report.anomalies if a.check in COMPARED}
    live = {(a.check, a.bar_time): a for _, a in _feed(bars_of(series), baseline=LiveBaseline.of(report))}
    assert set(live) == set(full)
    for key, anomaly in live.items():
        if key[0] in {"price_spikes", "level_shifts"}:
            assert anomaly.values == pytest.approx(full[key].values, rel=1e-9)
