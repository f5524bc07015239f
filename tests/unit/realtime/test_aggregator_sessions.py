"""BarAggregator on a session calendar: the Alignment and Outside-the-sessions rules, seeding with session
closes, and a property against the calendar's own bars.

Hand-worked times (New York, EDT = UTC-4 from 2024-03-10): Monday 2024-03-11 trades 13:30-20:00 UTC; the
futures session `1800-1700` of Monday 2024-03-11 opens Sunday 2024-03-10 22:00 UTC and closes 21:00 UTC.
"""

from calendar import timegm

from hypothesis import given, settings
from hypothesis import strategies as st

from src.domain.market_data import Interval, OHLCVBar, SessionCalendar, Symbol
from src.domain.realtime import BarAggregator
from src.infrastructure.timezones import time_zone_rules

AAPL = Symbol("NASDAQ", "AAPL")
ES = Symbol("CME_MINI", "ES1!")
NEW_YORK = time_zone_rules("America/New_York", 2023, 2025)
NASDAQ = SessionCalendar.from_tradingview(NEW_YORK, "0930-1600", "20240329")
NASDAQ_EXTENDED = SessionCalendar.from_tradingview(NEW_YORK, "0400-2000", "20240329")
FUTURES = SessionCalendar.from_tradingview(NEW_YORK, "1800-1700")
M1, M5, H1, H4, D1, W1, MN1 = (Interval.M1, Interval.M5, Interval.H1, Interval.H4, Interval.D1, Interval.W1,
                                Interval.MN1)


def utc(year, month, day, hour=0, minute=0, second=0) -> int:
    return timegm((year, month, day, hour, minute, second))


OPEN = utc(2024, 3, 11, 13, 30)  # 09:30 New York
CLOSE = utc(2024, 3, 11, 20)  # 16:00 New York


def nasdaq(intervals=(M5, H1, H4, D1), calendar=NASDAQ) -> BarAggregator:
    agg = BarAggregator(intervals, source="tradingview")
    agg.set_calendar(AAPL, calendar)
    return agg


def test_live_bars_open_at_the_session_open_and_the_last_one_is_cut_at_the_close():
    agg = nasdaq()
    agg.on_tick(AAPL, OPEN + 35 * 60, 10.0)  # 10:05
    assert [agg.forming(AAPL, i).time for i in (M5, H1, H4, D1)] == [OPEN + 35 * 60, OPEN, OPEN, OPEN]
    agg.on_tick(AAPL, CLOSE - 60, 11.0)  # 15:59: the 15:30 hour bar, the 13:30 four-hour bar
    assert agg.forming(AAPL, H1).time == CLOSE - 1_800 and agg.forming(AAPL, H4).time == OPEN + 4 * 3_600
    closed = agg.close_due(CLOSE)  # both end at 16:00, not at 16:30 or 17:30
    assert {u.bar.interval for u in closed} == {M5, H1, H4, D1}


def test_ticks_outside_the_session_build_no_bar_and_their_volume_counts_in_none():
    agg = nasdaq()
    assert agg.on_tick(AAPL, OPEN - 600, 9.0, 1_000.0) == ()  # pre-market
    assert agg.on_tick(AAPL, OPEN - 300, 9.5, 1_500.0) == ()
    agg.on_tick(AAPL, OPEN + 10, 10.0, 1_600.0)
    bar = agg.forming(AAPL, H1)
    assert (bar.time, bar.open, bar.low, bar.volume) == (OPEN, 10.0, 10.0, 100.0)  # not 600: pre-market volume
    assert agg.out_of_session_ticks(AAPL) == 2 and agg.out_of_session_ticks_total == 2
    assert agg.forming(AAPL, D1).volume == 100.0


def test_a_tick_after_the_close_closes_the_sessions_bars_and_opens_none():
    agg = nasdaq()
    agg.on_tick(AAPL, CLOSE - 30, 10.0, 10.0)
    closed = agg.on_tick(AAPL, CLOSE + 5, 12.0, 20.0)  # after-hours trade: the feed's clock passed 16:00
    assert sorted(u.bar.interval.code for u in closed) == sorted(i.code for i in (M5, H1, H4, D1))
    assert all(u.closed and u.bar.close == 10.0 for u in closed)
    assert agg.forming_bars(AAPL) == [] and agg.on_tick(AAPL, CLOSE - 10, 11.0) == ()  # stale now
    assert agg.stale_ticks(AAPL) == 1


def test_the_next_sessions_first_tick_opens_its_bars_at_its_open():
    agg = nasdaq()
    agg.on_tick(AAPL, CLOSE - 30, 10.0)
    next_open = OPEN + 86_400
    closed = agg.on_tick(AAPL, next_open + 1, 11.0)
    assert {u.bar.time for u in closed} == {CLOSE - 300, CLOSE - 1_800, OPEN + 4 * 3_600, OPEN}
    assert all(agg.forming(AAPL, i).time == next_open for i in (M5, H1, H4, D1))
    assert not agg.forming(AAPL, H1).partial  # tracked since the previous session: a whole period


def test_a_holiday_builds_no_bar():
    agg = nasdaq()
    good_friday = utc(2024, 3, 29, 14)
    assert agg.on_tick(AAPL, good_friday, 10.0) == () and agg.forming_bars(AAPL) == []
    assert agg.out_of_session_ticks(AAPL) == 1


def test_extended_hours_are_another_calendar_whose_premarket_ticks_build_bars():
    agg = nasdaq(calendar=NASDAQ_EXTENDED)
    agg.on_tick(AAPL, OPEN - 600, 9.0, 1_000.0)  # 09:20: inside 04:00-20:00
    assert agg.forming(AAPL, H1).time == utc(2024, 3, 11, 13) and agg.forming(AAPL, D1).time == utc(2024, 3, 11, 8)
    assert agg.out_of_session_ticks(AAPL) == 0


def test_overnight_daily_weekly_and_monthly_bars_are_keyed_by_the_trading_day_they_end_on():
    agg = BarAggregator([H1, D1, W1, MN1], source="tradingview")
    agg.set_calendar(ES, FUTURES)
    sunday_evening = utc(2024, 3, 10, 22, 5)  # 18:05 New York, Monday's session
    agg.on_tick(ES, sunday_evening, 5_000.0)
    opens = [agg.forming(ES, i).time for i in (H1, D1, W1, MN1)]
    assert opens == [utc(2024, 3, 10, 22), utc(2024, 3, 10, 22), utc(2024, 3, 10, 22), utc(2024, 2, 29, 23)]
    # The monthly bar of March opened on Thursday 2024-02-29 18:00 New York (Friday March 1's session).


def test_a_seed_takes_the_calendar_close_and_a_seed_off_the_calendar_is_not_applied():
    agg = nasdaq(intervals=(H1,))
    agg.on_tick(AAPL, CLOSE - 1_700, 10.0)
    last_hour = OHLCVBar(H1, CLOSE - 1_800, 10.0, 11.0, 9.0, 10.5, 100.0)
    assert agg.seed(AAPL, last_hour)[0]
    assert [u.bar.time for u in agg.close_due(CLOSE)] == [CLOSE - 1_800]  # closes at 16:00
    assert agg.seed(AAPL, OHLCVBar(H1, CLOSE - 3_600, 1, 1, 1, 1)) == (False, [])  # 15:00: no bar open


def test_changing_the_calendar_drops_the_bars_built_on_the_old_one():
    agg = BarAggregator([H1], source="tradingview")
    agg.on_tick(AAPL, OPEN + 60, 10.0)
    assert agg.forming(AAPL, H1).time == utc(2024, 3, 11, 13)  # on the UTC grid until told otherwise
    dropped = agg.set_calendar(AAPL, NASDAQ)
    assert [(u.bar.time, u.closed, u.bar.partial) for u in dropped] == [(utc(2024, 3, 11, 13), False, True)]
    assert agg.set_calendar(AAPL, NASDAQ) == []
    agg.on_tick(AAPL, OPEN + 120, 10.0)
    assert agg.forming(AAPL, H1).time == OPEN


week = st.lists(st.integers(min_value=0, max_value=7 * 86_400 - 1), min_size=1, max_size=60)


@settings(max_examples=60, deadline=None)
@given(week, st.sampled_from([NASDAQ, FUTURES]))
def test_every_live_bar_is_a_calendar_bar_holding_exactly_its_in_session_ticks(offsets, calendar):
    start = utc(2024, 3, 4)
    times = sorted(start + offset for offset in offsets)
    intervals = (M5, Interval.M45, H1, H4, D1, W1, MN1)
    agg = BarAggregator(intervals, source="tradingview")
    agg.set_calendar(AAPL, calendar)
    bars = []
    for price, t in enumerate(times, start=1):
        bars += [u.bar for u in agg.on_tick(AAPL, t, float(price))]
    bars += [u.bar for u in agg.flush()]
    for interval in intervals:
        built = {b.time: b for b in bars if b.interval is interval}
        expected: dict[int, list[int]] = {}
        for price, t in enumerate(times, start=1):
            opened = calendar.bar_of(t, interval)
            if opened is not None:
                expected.setdefault(opened, []).append(price)
        assert sorted(built) == sorted(expected)
        for opened, prices in expected.items():
            bar = built[opened]
            assert (bar.open, bar.high, bar.low, bar.close) == (prices[0], max(prices), min(prices), prices[-1])
    outside = sum(1 for t in times if not calendar.is_trading(t))
    assert agg.out_of_session_ticks(AAPL) == outside
