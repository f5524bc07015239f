"""`SessionCalendar` against bar times worked out by hand, one rule of `calendar.py` per test.

Expected times are written in UTC from the exchange's published hours and the known daylight-saving
dates, never computed by the calendar (New York: EST until 2024-03-10, EDT until 2024-11-03)."""

import calendar
from datetime import date

import pytest

from src.domain.errors import InvalidSession, NotABarOpen
from src.domain.market_data.calendar import SessionCalendar
from src.domain.market_data.interval import Interval
from src.domain.market_data.time_zone import TimeZoneRules
from src.infrastructure.timezones import time_zone_rules

H1, H4, D1, W1, MN1 = Interval.H1, Interval.H4, Interval.D1, Interval.W1, Interval.MN1


def utc(*moment: int) -> int:
    return calendar.timegm((*moment, *(0,) * (6 - len(moment))))


def zone(name: str) -> TimeZoneRules:
    return time_zone_rules(name, 2023, 2026)


NASDAQ = SessionCalendar.from_tradingview(zone("America/New_York"), "0930-1600", "20241225", "0930-1300:20241129")
CME = SessionCalendar.from_tradingview(zone("America/Chicago"), "1700-1600")


def times(cal: SessionCalendar, interval: Interval, start: int, end: int) -> list[int]:
    return [int(t) for t in cal.bar_times(interval, start, end)]


def test_intraday_bars_anchor_at_the_session_open_and_follow_daylight_saving():
    assert times(NASDAQ, H1, utc(2024, 3, 8), utc(2024, 3, 11, 23)) == [
        *(utc(2024, 3, 8, h, 30) for h in range(14, 21)),
        *(utc(2024, 3, 11, h, 30) for h in range(13, 20)),
    ]


def test_the_last_bar_of_a_session_is_short():
    assert NASDAQ.bar_close(utc(2024, 3, 8, 20, 30), H1) == utc(2024, 3, 8, 21)
    assert times(NASDAQ, H4, utc(2024, 3, 11), utc(2024, 3, 11, 23)) == [
        utc(2024, 3, 11, 13, 30), utc(2024, 3, 11, 17, 30),
    ]
    assert NASDAQ.bar_close(utc(2024, 3, 11, 17, 30), H4) == utc(2024, 3, 11, 20)


def test_a_trade_belongs_to_the_bar_holding_it_and_none_outside_sessions():
    assert NASDAQ.bar_of(utc(2024, 3, 11, 14, 59, 59), H1) == utc(2024, 3, 11, 14, 30)
    assert NASDAQ.bar_of(utc(2024, 3, 11, 13, 30), H1) == utc(2024, 3, 11, 13, 30)
    assert NASDAQ.bar_of(utc(2024, 3, 11, 13, 29, 59), H1) is None
    assert NASDAQ.bar_of(utc(2024, 3, 11, 20), D1) is None  # the close is outside its session
    assert NASDAQ.bar_of(utc(2024, 3, 9, 15), W1) is None  # a Saturday
    assert not NASDAQ.is_trading(utc(2024, 3, 9, 15)) and NASDAQ.is_trading(utc(2024, 3, 11, 19, 59, 59))


def test_daily_bars_open_at_each_trading_days_first_session():
    assert times(NASDAQ, D1, utc(2024, 3, 8), utc(2024, 3, 11, 23)) == [
        utc(2024, 3, 8, 14, 30), utc(2024, 3, 11, 13, 30),
    ]
    assert NASDAQ.bar_close(utc(2024, 3, 8, 14, 30), D1) == utc(2024, 3, 8, 21)
    assert NASDAQ.bar_of(utc(2024, 3, 8, 20, 59), D1) == utc(2024, 3, 8, 14, 30)


def test_weekly_and_monthly_bars_open_at_the_periods_first_session():
    assert times(NASDAQ, W1, utc(2024, 3, 8), utc(2024, 3, 11, 23)) == [
        utc(2024, 3, 4, 14, 30), utc(2024, 3, 11, 13, 30),
    ]
    assert NASDAQ.bar_close(utc(2024, 3, 4, 14, 30), W1) == utc(2024, 3, 8, 21)
    assert times(NASDAQ, MN1, utc(2024, 3, 8), utc(2024, 4, 1, 14)) == [
        utc(2024, 3, 1, 14, 30), utc(2024, 4, 1, 13, 30),
    ]
    assert NASDAQ.bar_close(utc(2024, 3, 1, 14, 30), MN1) == utc(2024, 3, 29, 20)
    assert NASDAQ.bar_of(utc(2024, 3, 29, 19), MN1) == utc(2024, 3, 1, 14, 30)


def test_a_half_day_correction_ends_the_session_early():
    assert times(NASDAQ, H1, utc(2024, 11, 29), utc(2024, 11, 29, 23, 59)) == [
        utc(2024, 11, 29, h, 30) for h in range(14, 18)
    ]
    assert NASDAQ.bar_close(utc(2024, 11, 29, 17, 30), H1) == utc(2024, 11, 29, 18)
    assert NASDAQ.bar_close(utc(2024, 11, 29, 14, 30), D1) == utc(2024, 11, 29, 18)


def test_a_holiday_has_no_bar():
    assert times(NASDAQ, H1, utc(2024, 12, 25), utc(2024, 12, 25, 23, 59)) == []
    assert NASDAQ.bar_of(utc(2024, 12, 25, 15), D1) is None
    assert times(NASDAQ, D1, utc(2024, 12, 24), utc(2024, 12, 26, 23)) == [
        utc(2024, 12, 24, 14, 30), utc(2024, 12, 26, 14, 30),
    ]


def test_a_correction_may_open_a_day_that_normally_does_not_trade():
    weekend = SessionCalendar.from_tradingview(zone("America/New_York"), "0930-1600", corrections="1000-1200:20240309")
    assert times(weekend, H1, utc(2024, 3, 9), utc(2024, 3, 9, 23)) == [utc(2024, 3, 9, 15), utc(2024, 3, 9, 16)]


def test_a_closing_correction_wins_over_the_regular_session():
    closed = SessionCalendar.from_tradingview(zone("America/New_York"), "0930-1600", corrections=":20240311")
    assert times(closed, D1, utc(2024, 3, 11), utc(2024, 3, 11, 23)) == []


def test_several_sessions_a_day_each_anchor_their_own_bars():
    tokyo = SessionCalendar.from_tradingview(TimeZoneRules.fixed(9 * 3600), "0900-1130,1230-1530")
    assert times(tokyo, H1, utc(2024, 6, 3), utc(2024, 6, 3, 12)) == [
        utc(2024, 6, 3, 0), utc(2024, 6, 3, 1), utc(2024, 6, 3, 2), utc(2024, 6, 3, 3, 30), utc(2024, 6, 3, 4, 30),
        utc(2024, 6, 3, 5, 30),
    ]
    assert tokyo.bar_close(utc(2024, 6, 3, 2), H1) == utc(2024, 6, 3, 2, 30)
    assert tokyo.bar_of(utc(2024, 6, 3, 2, 45), H1) is None  # lunch
    assert tokyo.bar_close(utc(2024, 6, 3), D1) == utc(2024, 6, 3, 6, 30)


def test_a_half_hour_zone_keeps_its_offset():
    kolkata = SessionCalendar.from_tradingview(zone("Asia/Kolkata"), "0915-1530")
    assert times(kolkata, H1, utc(2024, 6, 3), utc(2024, 6, 3, 12)) == [utc(2024, 6, 3, h, 45) for h in range(3, 10)]
    assert kolkata.bar_close(utc(2024, 6, 3, 9, 45), H1) == utc(2024, 6, 3, 10)


def test_european_daylight_saving_moves_the_london_open_by_an_hour():
    london = SessionCalendar.from_tradingview(zone("Europe/London"), "0800-1630")
    assert times(london, D1, utc(2024, 3, 29), utc(2024, 4, 2, 23)) == [
        utc(2024, 3, 29, 8), utc(2024, 4, 1, 7), utc(2024, 4, 2, 7),
    ]


def test_southern_hemisphere_daylight_saving_ends_in_april_and_starts_in_october():
    sydney = SessionCalendar.from_tradingview(zone("Australia/Sydney"), "1000-1600")
    assert times(sydney, D1, utc(2024, 4, 4, 12), utc(2024, 4, 8, 12)) == [utc(2024, 4, 4, 23), utc(2024, 4, 8, 0)]
    assert times(sydney, D1, utc(2024, 10, 3, 12), utc(2024, 10, 7, 12)) == [utc(2024, 10, 4, 0), utc(2024, 10, 6, 23)]
    assert sydney.trading_day_of(utc(2024, 4, 4, 23)) == date(2024, 4, 5)


def test_an_overnight_session_belongs_to_the_day_it_ends():
    assert CME.trading_day_of(utc(2024, 3, 10, 23)) == date(2024, 3, 11)  # Sunday evening in Chicago
    assert CME.trading_day_of(utc(2024, 3, 8, 21, 59)) == date(2024, 3, 8)
    assert CME.trading_day_of(utc(2024, 3, 8, 22)) is None  # Friday 16:00 CST: closed until Sunday
    assert times(CME, D1, utc(2024, 3, 7), utc(2024, 3, 12)) == [
        utc(2024, 3, 6, 23), utc(2024, 3, 7, 23), utc(2024, 3, 10, 22), utc(2024, 3, 11, 22),
    ]


def test_overnight_intraday_bars_anchor_at_the_evening_open():
    assert times(CME, H4, utc(2024, 3, 10, 12), utc(2024, 3, 11, 20, 59)) == [
        utc(2024, 3, 10, 22), utc(2024, 3, 11, 2), utc(2024, 3, 11, 6), utc(2024, 3, 11, 10), utc(2024, 3, 11, 14),
        utc(2024, 3, 11, 18),
    ]
    assert CME.bar_close(utc(2024, 3, 11, 18), H4) == utc(2024, 3, 11, 21)
    assert len(times(CME, H1, utc(2024, 3, 10, 22), utc(2024, 3, 11, 20, 59))) == 23


def test_overnight_weekly_and_monthly_bars_are_keyed_by_their_trading_days_without_collisions():
    assert times(CME, W1, utc(2024, 3, 4), utc(2024, 3, 11)) == [utc(2024, 3, 3, 23), utc(2024, 3, 10, 22)]
    assert CME.bar_close(utc(2024, 3, 3, 23), W1) == utc(2024, 3, 8, 22)
    assert times(CME, MN1, utc(2024, 3, 15), utc(2024, 4, 2)) == [utc(2024, 2, 29, 23), utc(2024, 3, 31, 22)]
    assert CME.bar_of(utc(2024, 3, 31, 23), MN1) == utc(2024, 3, 31, 22)  # a March evening trades for April
    assert CME.bar_of(utc(2024, 3, 29, 20), MN1) == utc(2024, 2, 29, 23)


def test_a_day_long_session_lasts_23_or_25_hours_on_daylight_saving_days():
    new_york_days = SessionCalendar.from_tradingview(zone("America/New_York"), "0000-0000:1234567")
    assert len(times(new_york_days, H1, utc(2024, 3, 10, 5), utc(2024, 3, 11, 3, 59))) == 23
    assert len(times(new_york_days, H1, utc(2024, 11, 3, 4), utc(2024, 11, 4, 4, 59))) == 25
    assert new_york_days.bar_close(utc(2024, 3, 10, 5), D1) == utc(2024, 3, 11, 4)


def test_a_session_inside_a_dst_gap_does_not_trade_and_one_across_a_fold_covers_both_hours():
    night = SessionCalendar.from_tradingview(zone("America/New_York"), "0200-0300:1|0100-0200:1")
    assert times(night, D1, utc(2024, 3, 10), utc(2024, 3, 10, 23)) == [utc(2024, 3, 10, 6)]  # 01:00 EST only
    assert night.bar_close(utc(2024, 3, 10, 6), D1) == utc(2024, 3, 10, 7)
    assert night.bar_close(utc(2024, 11, 3, 5), D1) == utc(2024, 11, 3, 8)  # 01:00 EDT to 03:00 EST


def test_extended_hours_are_a_second_calendar_from_the_extended_session():
    extended = SessionCalendar.from_tradingview(zone("America/New_York"), "0400-2000", "20241225")
    assert times(extended, H1, utc(2024, 3, 11), utc(2024, 3, 11, 23, 59))[0] == utc(2024, 3, 11, 8)
    assert extended.bar_of(utc(2024, 3, 11, 12), D1) == utc(2024, 3, 11, 8)
    assert NASDAQ.bar_of(utc(2024, 3, 11, 12), D1) is None


def test_bar_close_rejects_a_time_that_opens_no_bar():
    for moment, interval in [(utc(2024, 3, 11, 13, 31), H1), (utc(2024, 3, 11, 14, 30), D1), (utc(2024, 3, 9), H1)]:
        with pytest.raises(NotABarOpen):
            NASDAQ.bar_close(moment, interval)


def test_an_empty_or_reversed_range_has_no_bars():
    assert times(NASDAQ, H1, utc(2024, 3, 11, 20), utc(2024, 3, 11, 13)) == []
    assert times(NASDAQ, H1, utc(2024, 3, 9), utc(2024, 3, 10, 23)) == []


def test_the_first_weekday_of_the_session_string_starts_the_trading_week():
    sunday_weeks = SessionCalendar.from_tradingview(TimeZoneRules.utc(), "1;1000-1400:123456")
    assert times(sunday_weeks, W1, utc(2024, 3, 10), utc(2024, 3, 16, 23)) == [utc(2024, 3, 10, 10)]
    monday_weeks = SessionCalendar.from_tradingview(TimeZoneRules.utc(), "1000-1400:123456")
    assert times(monday_weeks, W1, utc(2024, 3, 10), utc(2024, 3, 16, 23)) == [
        utc(2024, 3, 4, 10), utc(2024, 3, 11, 10),
    ]


def test_a_correction_overlapping_the_next_days_overnight_session_is_rejected():
    with pytest.raises(InvalidSession) as caught:
        SessionCalendar.from_tradingview(zone("America/Chicago"), "1700-1600", corrections="0930-1800:20240307")
    assert caught.value.field == "session-correction"


def test_sessions_of_a_day_apply_corrections_then_holidays_then_the_weekday():
    assert [(s.start, s.end) for s in NASDAQ.sessions_of(date(2024, 11, 29))] == [(570, 780)]
    assert NASDAQ.sessions_of(date(2024, 12, 25)) == ()
    assert NASDAQ.sessions_of(date(2024, 12, 28)) == ()
    assert [(s.start, s.end) for s in NASDAQ.sessions_of(date(2024, 12, 27))] == [(570, 960)]
