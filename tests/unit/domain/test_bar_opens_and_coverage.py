"""The one bar-open rule (`bar_opens`), series built on a calendar, and coverage counted against the calendar.

Hand-worked NASDAQ dates (New York; UTC-5 in winter, UTC-4 from 2024-03-10): Friday 2024-03-08 trades
14:30-21:00 UTC, Monday 2024-03-11 13:30-20:00 UTC, Good Friday 2024-03-29 is a holiday, 2024-11-29 closes at
13:00 New York (18:00 UTC). Random calendars are checked against `calendar_reference`.
"""

from calendar import timegm
from itertools import product

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from src.domain.errors import InvalidSeries
from src.domain.market_data import Interval, OHLCVAggregate, OHLCVBar, SeriesKey, SessionCalendar, Symbol
from src.domain.market_data.bar_opens import misplaced, rejections
from src.domain.market_data.coverage import calendar_coverage
from src.infrastructure.timezones import time_zone_rules
from tests.unit.domain.calendar_reference import InGap, bar_at
from tests.unit.domain.test_calendar_properties import RANDOM_CALENDARS, build, instants, specs, window_bounds

NASDAQ = SessionCalendar.from_tradingview(time_zone_rules("America/New_York", 2023, 2025), "0930-1600",
                                          "20240329", "0930-1300:20241129")
KEY = SeriesKey(Symbol("NASDAQ", "AAPL"), Interval.H1, "tradingview")
H1, D1 = Interval.H1, Interval.D1


def utc(year, month, day, hour=0, minute=0) -> int:
    return timegm((year, month, day, hour, minute, 0))


def bar(interval: Interval, time: int, price: float = 10.0) -> OHLCVBar:
    return OHLCVBar(interval, time, price, price + 1, price - 1, price, 5.0)


def test_a_bar_open_of_the_calendar_is_kept_and_others_are_rejected_saying_where_they_fall():
    monday = [utc(2024, 3, 11, 13, 30), utc(2024, 3, 11, 14), utc(2024, 3, 11, 12), utc(2024, 3, 11, 19, 30)]
    assert misplaced(NASDAQ, H1, monday).tolist() == [False, True, True, False]
    refused = rejections(NASDAQ, H1, np.array(monday, dtype=np.int64))
    assert [r.time for r in refused] == monday[1:3]
    assert "inside the bar opening at 2024-03-11T13:30:00Z" in refused[0].reason
    assert "outside the trading sessions" in refused[1].reason


def test_daylight_saving_moves_the_utc_stamps_of_the_same_wall_clock_bars():
    assert not misplaced(NASDAQ, H1, [utc(2024, 3, 8, 14, 30), utc(2024, 3, 11, 13, 30)]).any()
    assert misplaced(NASDAQ, H1, [utc(2024, 3, 8, 13, 30), utc(2024, 3, 11, 14, 30)]).tolist() == [True, False]


def test_daily_bars_open_at_the_session_open_and_midnight_utc_stamps_are_misplaced():
    assert misplaced(NASDAQ, D1, [utc(2024, 3, 11, 13, 30), utc(2024, 3, 11), utc(2024, 3, 29, 13, 30)]).tolist() \
        == [False, True, True]  # the holiday has no daily bar


def test_the_half_day_ends_with_a_short_bar_and_has_no_bar_after_its_close():
    assert not misplaced(NASDAQ, H1, [utc(2024, 11, 29, 17, 30)]).any()  # 12:30-13:00 New York
    assert misplaced(NASDAQ, H1, [utc(2024, 11, 29, 18, 30)]).all()
    assert NASDAQ.bar_close(utc(2024, 11, 29, 17, 30), H1) == utc(2024, 11, 29, 18)


def test_times_far_apart_are_checked_one_by_one_with_the_same_answers():
    times = [utc(2024, 3, 11, 13, 35), utc(2024, 3, 11, 13, 30), utc(2023, 6, 1, 13, 30), utc(2025, 6, 2, 13, 30)]
    dense = misplaced(NASDAQ, Interval.M5, times[:2])
    sparse = misplaced(NASDAQ, Interval.M5, times)
    assert sparse[:2].tolist() == dense.tolist() == [False, False] and sparse[2:].tolist() == [False, False]


@RANDOM_CALENDARS
@given(specs(), instants)
def test_misplaced_agrees_with_an_independent_reference(spec_and_window, offsets):
    spec, first = spec_and_window
    calendar = build(spec)
    start, _ = window_bounds(first)
    for interval, t in product(Interval, (start + offset for offset in offsets)):
        try:
            expected = bar_at(spec, t, interval.code, interval.seconds)
        except InGap:
            continue
        is_open = expected is not None and expected[0] == t
        assert misplaced(calendar, interval, [t]).tolist() == [not is_open]
        if expected is not None:
            assert not misplaced(calendar, interval, [expected[0]]).any()


def test_a_series_on_a_calendar_refuses_a_bar_that_is_no_bar_open():
    with pytest.raises(InvalidSeries) as caught:
        OHLCVAggregate(KEY, (bar(H1, utc(2024, 3, 11, 14)),), NASDAQ)
    assert caught.value.field == "time" and "2024-03-11T13:30:00Z" in str(caught.value)
    assert OHLCVAggregate(KEY, (bar(H1, utc(2024, 3, 11, 13, 30)),), NASDAQ).bars[0].time == utc(2024, 3, 11, 13, 30)


def test_fitting_keeps_the_bar_opens_last_one_wins_and_rejects_the_rest_unmoved():
    good, late_copy, grid = bar(H1, utc(2024, 3, 11, 14, 30)), bar(H1, utc(2024, 3, 11, 14, 30), 20.0), \
        bar(H1, utc(2024, 3, 11, 15))
    series, refused = OHLCVAggregate.fitting(KEY, [grid, good, late_copy], NASDAQ)
    assert series.bars == (late_copy,)
    assert [r.time for r in refused] == [grid.time]


def test_merge_keeps_the_calendar():
    newer = OHLCVAggregate(KEY, (bar(H1, utc(2024, 3, 11, 13, 30)),), NASDAQ)
    series = OHLCVAggregate(KEY, (bar(H1, utc(2024, 3, 11, 14, 30)),), NASDAQ).merge(newer)
    assert series.calendar is NASDAQ and len(series) == 2
    with pytest.raises(InvalidSeries):
        OHLCVAggregate(KEY).merge(newer)  # the 24x7 series: 13:30 is no bar open of the UTC grid


# --- coverage --------------------------------------------------------------------------------------


def test_nights_weekends_and_holidays_are_not_gaps_and_a_missing_session_bar_is():
    friday = [utc(2024, 3, 8, 14, 30) + 3_600 * k for k in range(7)]  # 09:30 ... 15:30 New York
    monday = [utc(2024, 3, 11, 13, 30) + 3_600 * k for k in range(7)]
    stored = friday + monday[:2] + monday[3:]
    found = calendar_coverage(NASDAQ, H1, stored)
    assert (found.gaps, found.missing, found.misplaced) == (((monday[2], monday[2]),), 1, 0)
    assert calendar_coverage(NASDAQ, H1, friday + monday).missing == 0


def test_a_gap_is_a_stretch_of_consecutive_calendar_bars_even_across_a_night():
    friday_last, monday_first = utc(2024, 3, 8, 20, 30), utc(2024, 3, 11, 13, 30)
    stored = [utc(2024, 3, 8, 19, 30), utc(2024, 3, 11, 14, 30)]
    assert calendar_coverage(NASDAQ, H1, stored).gaps == ((friday_last, monday_first),)


def test_grid_stamped_bars_are_counted_as_misplaced():
    grid = [utc(2024, 3, 11, 14) + 3_600 * k for k in range(6)]
    found = calendar_coverage(NASDAQ, H1, grid)
    assert found.misplaced == 6 and found.missing == 5  # 14:30 ... 18:30 are expected and absent


def test_coverage_of_nothing_is_empty():
    found = calendar_coverage(NASDAQ, H1, [])
    assert (found.gaps, found.missing, found.misplaced) == ((), 0, 0)


@given(st.sets(st.integers(min_value=0, max_value=199), max_size=200))
def test_missing_plus_stored_is_every_expected_bar_between_first_and_last(kept):
    expected = NASDAQ.bar_times(Interval.M15, utc(2024, 3, 4), utc(2024, 3, 20))
    stored = np.sort(expected[sorted(kept)]) if kept else np.zeros(0, np.int64)
    found = calendar_coverage(NASDAQ, Interval.M15, stored)
    if len(stored):
        between = expected[(expected >= stored[0]) & (expected <= stored[-1])]
        assert found.missing + len(stored) == len(between) and found.misplaced == 0
        in_gaps = sum(len(between[(between >= a) & (between <= b)]) for a, b in found.gaps)
        assert in_gaps == found.missing
