"""The series checks: each with bars that pass, that touch the threshold, and that fail."""

import calendar
import itertools
import math
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from src.domain.errors import InvalidBar
from src.domain.market_data import Interval, OHLCVBar
from src.domain.quality.checks import (
    flat_bars_runs,
    future_bars,
    missing_session_bars,
    ohlc_sanity,
    stale_series,
    zero_volume_runs,
)
from src.domain.quality.model import InvalidQualityInput, QualityThresholds, SeriesColumns, Severity
from tests.unit.domain.quality_series import (
    MINUTE,
    T0,
    columns_from_closes,
    context,
    grid,
    smooth_closes,
    with_values,
    without,
)

CLEAN = columns_from_closes(smooth_closes(200))
EMPTY = SeriesColumns.of([], [], [], [], [], [])
DEFAULTS = QualityThresholds()
HOUR, DAY = 3600, 86_400


def test_columns_must_be_sorted_unique_and_of_equal_length():
    with pytest.raises(InvalidQualityInput):
        SeriesColumns.of([60, 0], [1, 1], [1, 1], [1, 1], [1, 1], [0, 0])
    with pytest.raises(InvalidQualityInput):
        SeriesColumns.of([0, 0], [1, 1], [1, 1], [1, 1], [1, 1], [0, 0])
    with pytest.raises(InvalidQualityInput):
        SeriesColumns.of([0, 60], [1, 1], [1, 1], [1], [1, 1], [0, 0])


# --- ohlc_sanity -------------------------------------------------------------------------------------


def test_sane_bars_pass_ohlc_sanity():
    result = ohlc_sanity(CLEAN, context(CLEAN), DEFAULTS)
    assert (result.passed, result.value, result.anomalies, result.severity) == (True, 0.0, (), Severity.ERROR)


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"low": 200.0}, "low > min(open, close)"),
        ({"high": 1.0}, "high < max(open, close)"),
        ({"close": math.nan}, "a value is not finite"),
        ({"open": math.inf}, "a value is not finite"),
        ({"volume": -1.0}, "volume < 0"),
    ],
)
def test_each_broken_ohlc_rule_flags_its_bar_and_names_the_rule(changes, rule):
    broken = with_values(CLEAN, 7, **changes)
    result = ohlc_sanity(broken, context(broken), DEFAULTS)
    assert not result.passed and result.value == 1
    (anomaly,) = result.anomalies
    assert anomaly.bar_time == T0 + 7 * MINUTE and rule in anomaly.detail


def test_rejected_upstream_bars_count_up_to_the_threshold():
    broken = with_values(CLEAN, 3, low=500.0)
    at_limit = ohlc_sanity(broken, context(broken, rejected_upstream=1), QualityThresholds(max_invalid_bars=2))
    over = ohlc_sanity(broken, context(broken, rejected_upstream=2), QualityThresholds(max_invalid_bars=2))
    assert (at_limit.passed, at_limit.value, at_limit.affected_bars) == (True, 2.0, 2)
    assert (over.passed, over.value, len(over.anomalies)) == (False, 3.0, 1)


finite_or_not = st.one_of(st.floats(min_value=-10, max_value=10), st.sampled_from([math.nan, math.inf]))


@given(st.lists(st.tuples(finite_or_not, finite_or_not, finite_or_not, finite_or_not, finite_or_not), max_size=30))
def test_ohlc_sanity_flags_exactly_the_bars_the_write_path_rejects(rows):
    times = [T0 + MINUTE * i for i in range(len(rows))]
    columns = SeriesColumns.of(times, *(list(column) for column in zip(*rows, strict=True))) if rows else EMPTY
    rejected = set()
    for t, row in zip(times, rows, strict=True):
        try:
            OHLCVBar(Interval.M1, t, *row)
        except InvalidBar:
            rejected.add(t)
    flagged = {anomaly.bar_time for anomaly in ohlc_sanity(columns, context(columns, now=T0), DEFAULTS).anomalies}
    assert flagged == rejected


# --- missing_session_bars ----------------------------------------------------------------------------


def _session_calendar(days: int, start: int = T0) -> list[int]:
    """Hourly bars 14:30..20:30 UTC on weekdays: nights and weekends are closed."""
    times = []
    for day in range(days):
        midnight = start + day * DAY
        if calendar.weekday(*_ymd(midnight)) < 5:
            times += [midnight + 14 * HOUR + 1800 + HOUR * k for k in range(7)]
    return times


def _ymd(ts: int) -> tuple[int, int, int]:
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.year, moment.month, moment.day


def _hourly(times: list[int]) -> SeriesColumns:
    return columns_from_closes(smooth_closes(len(times)), times=times)


def test_a_session_series_has_no_gaps_at_night_or_weekends():
    expected = _session_calendar(14)
    series = _hourly(expected)
    result = missing_session_bars(series, context(series, interval_seconds=HOUR, expected_times=np.array(expected)),
                                  DEFAULTS)
    assert (result.passed, result.value, result.anomalies) == (True, 0.0, ())


def test_a_missing_session_bar_is_reported_as_a_range_with_its_count():
    expected = _session_calendar(14)
    series = without(_hourly(expected), [10, 20, 21, 22])
    result = missing_session_bars(series, context(series, interval_seconds=HOUR, expected_times=np.array(expected)),
                                  DEFAULTS)
    assert not result.passed and result.value == 4 and result.affected_bars == 4
    assert [(a.span, a.values) for a in result.anomalies] == [
        ((expected[10], expected[10]), {"bars": 1.0}),
        ((expected[20], expected[22]), {"bars": 3.0}),
    ]


def test_missing_bars_pass_up_to_the_tolerated_count():
    series = without(CLEAN, [50, 51, 52])
    expected = grid(CLEAN)
    at_limit = missing_session_bars(series, context(series, expected_times=expected), QualityThresholds(
        max_missing_bars=3))
    over = missing_session_bars(series, context(series, expected_times=expected), QualityThresholds(
        max_missing_bars=2))
    assert (at_limit.passed, over.passed, at_limit.value, over.value) == (True, False, 3.0, 3.0)
    assert at_limit.anomalies == over.anomalies  # the gap is reported either way


def test_expected_bars_outside_the_series_span_are_not_gaps():
    expected = np.arange(T0 - 100 * MINUTE, T0 + 400 * MINUTE, MINUTE, dtype=np.int64)
    result = missing_session_bars(CLEAN, context(CLEAN, expected_times=expected), DEFAULTS)
    assert result.passed and result.value == 0


def test_the_calendar_must_be_sorted():
    with pytest.raises(InvalidQualityInput):
        context(CLEAN, expected_times=np.array([T0 + MINUTE, T0]))


def test_missing_bars_need_the_calendar():
    with pytest.raises(InvalidQualityInput):
        missing_session_bars(CLEAN, context(CLEAN), DEFAULTS)


@given(st.sets(st.integers(min_value=0, max_value=99), max_size=60), st.sets(st.integers(0, 99), max_size=60))
def test_missing_bars_are_exactly_the_expected_times_absent_from_the_series(present, expected):
    times = sorted(T0 + MINUTE * i for i in present)
    expected_times = sorted(T0 + MINUTE * i for i in expected)
    series = columns_from_closes([100.0] * len(times), times=times) if times else EMPTY
    calendar_times = np.array(expected_times, dtype=np.int64)
    result = missing_session_bars(series, context(series, now=T0, expected_times=calendar_times), DEFAULTS)

    reference = [t for t in expected_times if times and times[0] <= t <= times[-1] and t not in set(times)]
    ranges = [(*a.span, int(a.values["bars"])) for a in result.anomalies]
    covered = [[t for t in expected_times if first <= t <= last] for first, last, _ in ranges]
    assert [t for run in covered for t in run] == reference
    assert [len(run) for run in covered] == [count for _, _, count in ranges]
    # Ranges are maximal: a present expected time separates any two of them.
    for (_, last, _), (first, _, _) in itertools.pairwise(ranges):
        assert any(last < t < first for t in times)
    assert result.value == len(reference)


# --- stale_series ------------------------------------------------------------------------------------


def _stale(series: SeriesColumns, **overrides: object):
    return stale_series(series, context(series, **overrides), DEFAULTS)


def test_a_series_with_the_latest_closed_bar_is_not_stale():
    last = int(CLEAN.time[-1])
    result = _stale(CLEAN, now=last + 2 * MINUTE - 1)  # the bar after the last is still forming
    assert (result.passed, result.value) == (True, 0.0)


def test_stale_counts_closed_periods_and_passes_at_the_tolerance():
    last = int(CLEAN.time[-1])
    at_limit = _stale(CLEAN, now=last + MINUTE + 3 * MINUTE + 30)  # three periods closed since the last bar
    over = _stale(CLEAN, now=last + MINUTE + 4 * MINUTE)
    assert (at_limit.passed, at_limit.value) == (True, 3.0)
    assert (over.passed, over.value, over.affected_bars) == (False, 4.0, 4)
    assert over.anomalies[0].bar_time == last and over.anomalies[0].values == {"periods": 4.0}


def test_a_closed_market_is_never_stale():
    assert _stale(CLEAN, now=int(CLEAN.time[-1]) + 30 * DAY, market_open_now=False).passed


def test_a_session_series_is_not_stale_right_after_the_weekend_open():
    expected = _session_calendar(15)  # 2024-01-01 is a Monday; day 11 is Friday the 12th, day 14 a Monday
    friday_close = [t for t in expected if t < T0 + 12 * DAY]
    series = _hourly(friday_close)
    monday_open = T0 + 14 * DAY + 14 * HOUR + 1800
    on_calendar = _stale(series, interval_seconds=HOUR, now=monday_open + 300, expected_times=np.array(expected))
    two_hours_in = _stale(series, interval_seconds=HOUR, now=monday_open + 2 * HOUR, expected_times=np.array(
        expected))
    without_calendar = _stale(series, interval_seconds=HOUR, now=monday_open + 300)
    assert (on_calendar.passed, on_calendar.value) == (True, 0.0)
    assert two_hours_in.value == 2.0
    assert not without_calendar.passed  # a 24x7 grid would call the weekend stale


def test_a_monthly_series_counts_calendar_months():
    jan = calendar.timegm((2024, 1, 1, 0, 0, 0))
    series = columns_from_closes([100.0, 101.0], times=[calendar.timegm((2023, 12, 1, 0, 0, 0)), jan])
    mid_may = calendar.timegm((2024, 5, 15, 0, 0, 0))
    result = stale_series(series, context(series, interval_seconds=0, now=mid_may), DEFAULTS)
    assert result.value == 3.0  # February, March and April have closed


# --- runs --------------------------------------------------------------------------------------------


def _zero_volume(first: int, length: int) -> SeriesColumns:
    volume = CLEAN.volume.copy()
    volume[first : first + length] = 0
    return SeriesColumns(CLEAN.time, CLEAN.open, CLEAN.high, CLEAN.low, CLEAN.close, volume)


def test_zero_volume_runs_shorter_than_the_threshold_pass():
    result = zero_volume_runs(_zero_volume(40, 29), context(CLEAN), DEFAULTS)
    assert (result.passed, result.value, result.threshold, result.anomalies) == (True, 29.0, 30.0, ())


def test_a_zero_volume_run_of_exactly_the_threshold_is_flagged_at_its_first_bar():
    result = zero_volume_runs(_zero_volume(40, 30), context(CLEAN), DEFAULTS)
    assert (result.passed, result.value, result.affected_bars) == (False, 30.0, 30)
    (anomaly,) = result.anomalies
    assert anomaly.bar_time == T0 + 40 * MINUTE
    assert anomaly.values == {"bars": 30.0} and anomaly.span == (T0 + 40 * MINUTE, T0 + 69 * MINUTE)


def test_a_series_without_any_volume_has_no_zero_volume_runs():
    result = zero_volume_runs(_zero_volume(0, len(CLEAN)), context(CLEAN), DEFAULTS)
    assert result.passed and result.value == 0


def _flat(first: int, length: int) -> SeriesColumns:
    prices = [column.copy() for column in (CLEAN.open, CLEAN.high, CLEAN.low, CLEAN.close)]
    for column in prices:
        column[first : first + length] = 123.0
    return SeriesColumns(CLEAN.time, *prices, CLEAN.volume)


@pytest.mark.parametrize(("length", "passed"), [(29, True), (30, False), (45, False)])
def test_flat_bar_runs_are_flagged_from_the_threshold_on(length, passed):
    result = flat_bars_runs(_flat(100, length), context(CLEAN), DEFAULTS)
    assert (result.passed, result.value) == (passed, float(length))
    assert [a.values["bars"] for a in result.anomalies] == ([] if passed else [float(length)])


@given(st.lists(st.booleans(), max_size=80), st.integers(min_value=1, max_value=6))
def test_zero_volume_runs_match_a_plain_python_run_count(zero, min_run):
    volume = [0.0 if z else 1.0 for z in zero] + [1.0]  # a last bar with volume: the series has volume
    times = [T0 + MINUTE * i for i in range(len(volume))]
    series = SeriesColumns.of(times, [1.0] * len(volume), [1.0] * len(volume), [1.0] * len(volume),
                              [1.0] * len(volume), volume)
    reference, position = [], 0
    for is_zero, group in itertools.groupby(zero):
        length = len(list(group))
        if is_zero and length >= min_run:
            reference.append((times[position], length))
        position += length
    result = zero_volume_runs(series, context(series), QualityThresholds(zero_volume_run_bars=min_run))
    assert [(a.bar_time, int(a.values["bars"])) for a in result.anomalies] == reference
    assert result.passed == (not reference)


# --- future_bars -------------------------------------------------------------------------------------


def test_bars_up_to_one_interval_after_now_pass_and_later_ones_fail():
    now = int(CLEAN.time[-1]) - MINUTE  # the last bar opens one minute after now: tolerated
    at_limit = future_bars(CLEAN, context(CLEAN, now=now), DEFAULTS)
    over = future_bars(CLEAN, context(CLEAN, now=now - 1), DEFAULTS)
    assert (at_limit.passed, at_limit.value, at_limit.threshold) == (True, 60.0, 60.0)
    assert (over.passed, over.value, len(over.anomalies)) == (False, 61.0, 1)
    assert over.anomalies[0].values == {"seconds_ahead": 61.0}


def test_future_tolerance_of_a_monthly_series_is_the_length_of_the_current_month():
    feb_10 = calendar.timegm((2024, 2, 10, 0, 0, 0))
    months = [calendar.timegm((2024, m, 1, 0, 0, 0)) for m in (1, 2, 3, 4)]
    series = columns_from_closes([100.0, 101.0, 102.0, 103.0], times=months)
    result = future_bars(series, context(series, interval_seconds=0, now=feb_10), DEFAULTS)
    assert result.threshold == 29 * DAY  # February 2024
    assert [a.bar_time for a in result.anomalies] == [months[3]]  # March 1 is within Feb 10 + 29 days
