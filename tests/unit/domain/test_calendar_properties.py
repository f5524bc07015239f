"""Properties of `SessionCalendar` over random TradingView calendars, and 24x7 against the UTC grid.

Random calendars mix day sessions, lunch breaks, overnight and 24-hour sessions, per-weekday overrides,
holidays and corrections in six zones (both hemispheres, a half-hour zone, UTC), over windows chosen to
straddle daylight-saving changes. Bar times are checked against `calendar_reference`, a second
implementation built on `zoneinfo` and `datetime`.
"""

from datetime import date, timedelta
from itertools import product

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from src.domain.errors import InvalidSession
from src.domain.market_data.calendar import SessionCalendar
from src.domain.market_data.interval import Interval
from src.infrastructure.timezones import time_zone_rules
from tests.unit.domain.calendar_reference import (
    InGap,
    Segment,
    Spec,
    bar_at,
    period_days,
    session_at,
    sessions,
    utc_date,
)

ZONES = ["America/New_York", "America/Chicago", "Europe/London", "Australia/Sydney", "Asia/Kolkata", "Etc/UTC"]
# Days just before daylight-saving changes (US, EU, Sydney both ways) and plain ones.
STARTS = [
    date(2024, 3, 7), date(2024, 10, 31), date(2024, 3, 28), date(2024, 10, 24), date(2024, 4, 4),
    date(2024, 10, 3), date(2025, 3, 6), date(2025, 10, 30), date(2019, 12, 27), date(2026, 2, 25),
]
WINDOW_DAYS = 12
DAY = 86_400
RANDOM_CALENDARS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def day_periods(draw, low: int, high: int) -> tuple[tuple[int, int], ...]:
    """1-3 sessions inside [low, high] minutes of one day (high - low >= 1), in order; an end at 1440 is
    written 0000."""
    count = draw(st.integers(min_value=1, max_value=min(3, (high - low + 1) // 2)))
    points = sorted(draw(st.sets(st.integers(min_value=low, max_value=high), min_size=2 * count, max_size=2 * count)))
    return tuple((points[i], points[i + 1] % 1440) for i in range(0, 2 * count, 2))


@st.composite
def regular_periods(draw) -> tuple[tuple[tuple[int, int], ...], int]:
    """The main sessions and the latest minute another day's sessions may end (an overnight start)."""
    kind = draw(st.sampled_from(["day", "overnight", "whole"]))
    if kind == "whole":
        return ((0, 0),), 1440
    if kind == "day":
        return day_periods(draw, 0, 1440), 1440
    start = draw(st.integers(min_value=1, max_value=1439))
    end = draw(st.integers(min_value=1, max_value=start))
    extra = day_periods(draw, end, start) if start > end and draw(st.booleans()) else ()
    return ((start, end), *extra), start


digits = st.sets(st.sampled_from("1234567"), min_size=1, max_size=7).map(lambda s: "".join(sorted(s)))


def corrections(draw, window: list[date], latest_end: int) -> tuple:
    entries = []
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        periods = day_periods(draw, 0, latest_end) if draw(st.booleans()) else ()
        entries.append((periods, tuple(draw(st.sets(st.sampled_from(window), min_size=1, max_size=2)))))
    return tuple(entries)


@st.composite
def specs(draw) -> tuple[Spec, date]:
    plain_dates = st.dates(min_value=date(2019, 6, 1), max_value=date(2026, 6, 1))
    first = draw(st.sampled_from(STARTS) | plain_dates)
    window = [first + timedelta(days=i) for i in range(WINDOW_DAYS)]
    periods, latest_end = draw(regular_periods())
    segments = [Segment(periods, draw(st.none() | digits))]
    if draw(st.booleans()):
        segments.append(Segment(day_periods(draw, 0, latest_end), draw(digits)))
    spec = Spec(
        zone=draw(st.sampled_from(ZONES)),
        segments=tuple(segments),
        first_day=draw(st.none() | st.sampled_from("1234567")),
        holidays=tuple(sorted(draw(st.sets(st.sampled_from(window), max_size=3)))),
        corrections=corrections(draw, window, latest_end),
    )
    return spec, first


instants = st.lists(st.integers(min_value=0, max_value=WINDOW_DAYS * DAY), min_size=1, max_size=12)


def build(spec: Spec) -> SessionCalendar:
    rules = time_zone_rules(spec.zone, 2018, 2027)
    try:
        return SessionCalendar.from_tradingview(
            rules, spec.session_string(), spec.holidays_string(), spec.corrections_string()
        )
    except InvalidSession:
        assume(False)
        raise


def window_bounds(first: date) -> tuple[int, int]:
    start = (first - date(1970, 1, 1)).days * DAY
    return start, start + WINDOW_DAYS * DAY


@RANDOM_CALENDARS
@given(specs(), st.sampled_from(list(Interval)))
def test_bars_are_sorted_and_never_overlap(spec_and_window, interval):
    spec, first = spec_and_window
    spans = build(spec).bar_spans(interval, *window_bounds(first))
    assert np.all(spans.opens < spans.closes)
    assert np.all(spans.closes[:-1] <= spans.opens[1:])


@RANDOM_CALENDARS
@given(specs(), instants)
def test_every_trading_instant_belongs_to_exactly_one_bar_and_bar_of_finds_it(spec_and_window, offsets):
    spec, first = spec_and_window
    calendar = build(spec)
    start, end = window_bounds(first)
    for interval, t in product(Interval, (start + offset for offset in offsets)):
        spans = calendar.bar_spans(interval, start, end)  # recomputed: calls must not depend on earlier ones
        holding = np.flatnonzero((spans.opens <= t) & (t < spans.closes))
        bar = calendar.bar_of(t, interval)
        if calendar.is_trading(t):
            assert holding.size == 1
            assert bar == spans.opens[holding[0]]
            assert calendar.bar_close(bar, interval) == spans.closes[holding[0]]
            assert bar in calendar.bar_times(interval, t, t)
        else:  # a daily, weekly or monthly bar's span also holds the nights and breaks between its sessions
            assert holding.size == (0 if interval.is_intraday else holding.size) <= 1
            assert bar is None and calendar.trading_day_of(t) is None


@RANDOM_CALENDARS
@given(specs(), instants)
def test_bars_agree_with_an_independent_reference_implementation(spec_and_window, offsets):
    spec, first = spec_and_window
    calendar = build(spec)
    start, _ = window_bounds(first)
    for interval, t in product(Interval, (start + offset for offset in offsets)):
        try:
            expected = bar_at(spec, t, interval.code, interval.seconds)
            found = session_at(spec, t)
        except InGap:
            continue
        bar = calendar.bar_of(t, interval)
        assert (bar, None if bar is None else calendar.bar_close(bar, interval)) == (expected or (None, None))
        assert calendar.trading_day_of(t) == (found and found[0])


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=4_102_444_800), st.sampled_from(list(Interval)))
def test_24x7_in_utc_is_exactly_the_utc_grid(t, interval):
    always = SessionCalendar.always_open()
    opened = interval.align(t)
    assert always.bar_of(t, interval) == opened
    assert always.bar_close(opened, interval) == interval.next_open(opened)
    assert always.trading_day_of(t) == utc_date(t)
    span = 400 * (interval.seconds or 31 * DAY)
    expected = [opened]
    while interval.next_open(expected[-1]) <= t + span:
        expected.append(interval.next_open(expected[-1]))
    assert always.bar_times(interval, t, t + span).tolist() == expected


# --- helpers the live, history and provider paths use ---------------------------------------------------


@RANDOM_CALENDARS
@given(specs(), instants)
def test_span_at_is_one_session_or_a_stretch_holding_none(spec_and_window, offsets):
    spec, first = spec_and_window
    calendar = build(spec)
    start, _ = window_bounds(first)
    for t in (start + offset for offset in offsets):
        try:
            found = session_at(spec, t)
            ends = [session_at(spec, edge) for edge in (calendar.span_at(t)[0], calendar.span_at(t)[1] - 1)]
        except InGap:
            continue
        begin, end, trading = calendar.span_at(t)
        assert begin <= t < end and trading == (found is not None)
        if found is not None:
            assert (begin, end) == found[1]
        else:
            assert ends == [None, None]


@RANDOM_CALENDARS
@given(specs(), st.integers(min_value=0, max_value=WINDOW_DAYS - 1), st.sampled_from([Interval.D1, Interval.W1,
                                                                                      Interval.MN1]))
def test_period_open_is_the_first_session_open_of_the_period_holding_a_date(spec_and_window, offset, interval):
    spec, first = spec_and_window
    day = first + timedelta(days=offset)
    try:
        spans = [span for d in period_days(spec, day, interval.code) for span in sessions(spec, d)]
    except InGap:
        assume(False)
    assert build(spec).period_open(day, interval) == (spans[0][0] if spans else None)


@RANDOM_CALENDARS
@given(specs(), instants)
def test_latest_open_is_the_newest_bar_opening_at_or_before_a_time(spec_and_window, offsets):
    spec, first = spec_and_window
    calendar = build(spec)
    start, end = window_bounds(first)
    for interval, t in product(Interval, (start + offset for offset in offsets)):
        opens = calendar.bar_times(interval, start - 40 * DAY, end)
        before = opens[opens <= t]
        if before.size and before[-1] > start - 35 * DAY:
            assert calendar.latest_open(t, interval) == before[-1]


def test_only_24x7_in_utc_is_the_utc_grid():
    assert SessionCalendar.always_open().is_utc_grid
    assert SessionCalendar.from_tradingview(time_zone_rules("Etc/UTC", 2020, 2021), "24x7").is_utc_grid
    assert not SessionCalendar.from_tradingview(time_zone_rules("Asia/Ho_Chi_Minh", 2020, 2021), "24x7").is_utc_grid
    assert not SessionCalendar.from_tradingview(time_zone_rules("Etc/UTC", 2020, 2021), "24x7", "20200101").is_utc_grid
