"""Session ids and UTC offsets of stored bars, from a trading calendar (24x7 UTC for a symbol whose sessions
are not known)."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from src.domain.market_data import Interval
from src.domain.market_data.calendar import SessionCalendar
from src.domain.market_data.time_zone import TimeZoneRules
from src.features.indicators.sessions import NO_SESSION, calendar_of, session_ids, utc_offsets
from tests.unit.indicators_api.conftest import DAY0, KEY

HOUR = 3_600
# 2025: DST from 2025-03-09 07:00 UTC to 2025-11-02 06:00 UTC.
NEW_YORK = TimeZoneRules("America/New_York", -5 * HOUR, (1_741_503_600, 1_762_063_200), (-4 * HOUR, -5 * HOUR))
NYSE = SessionCalendar.from_tradingview(NEW_YORK, "0930-1600:23456")
MONDAY = DAY0 + 5 * 86_400  # 2025-01-06


def times(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def test_a_series_without_known_sessions_is_24x7_utc_so_an_intraday_session_is_a_utc_day():
    calendar = calendar_of(KEY)
    bars = times(DAY0 - 60, DAY0, DAY0 + 86_399 - 59, DAY0 + 86_400)
    assert session_ids(calendar, Interval.M1, bars).tolist() == [DAY0 - 86_400, DAY0, DAY0, DAY0 + 86_400]
    assert utc_offsets(calendar, bars).tolist() == [0, 0, 0, 0]


def test_a_daily_weekly_or_monthly_bar_is_a_session_of_its_own():
    bars = times(DAY0, DAY0 + 86_400, DAY0 + 2 * 86_400)
    for interval in (Interval.D1, Interval.W1, Interval.MN1):
        assert session_ids(calendar_of(KEY), interval, bars).tolist() == bars.tolist()


def test_an_intraday_bar_belongs_to_the_trading_day_that_opened_last_before_it():
    monday_open = MONDAY + 14 * HOUR + 30 * 60  # 09:30 New York (UTC-5 in January)
    tuesday_open = monday_open + 86_400
    bars = times(monday_open, monday_open + 6 * HOUR, tuesday_open - HOUR, tuesday_open)
    assert session_ids(NYSE, Interval.M5, bars).tolist() == [monday_open, monday_open, monday_open, tuesday_open]


def test_a_monday_bar_after_the_weekend_belongs_to_friday_and_one_with_no_day_in_reach_has_no_session():
    friday_open = MONDAY - 3 * 86_400 + 14 * HOUR + 30 * 60
    assert session_ids(NYSE, Interval.H1, times(MONDAY + HOUR)).tolist() == [friday_open]
    # Mondays only, the two before MONDAY holidays: nothing traded within the look-back before 08:00.
    mondays = SessionCalendar.from_tradingview(TimeZoneRules.utc(), "0930-1600:2", "20241223,20241230")
    assert session_ids(mondays, Interval.H1, times(MONDAY + 8 * HOUR)).tolist() == [NO_SESSION]


def test_utc_offsets_follow_the_time_zone_across_daylight_saving():
    spring, autumn = NEW_YORK.transitions
    bars = times(spring - 1, spring, autumn - 1, autumn)
    assert utc_offsets(NYSE, bars).tolist() == [-5 * HOUR, -4 * HOUR, -4 * HOUR, -5 * HOUR]


@given(st.lists(st.integers(0, 60 * 24 * 40), min_size=1, max_size=50, unique=True))
def test_a_bar_alone_gets_the_session_id_it_has_in_any_batch(minutes):
    bars = np.sort(np.array(minutes, dtype=np.int64)) * 300 + MONDAY
    batch = session_ids(NYSE, Interval.M5, bars)
    assert [session_ids(NYSE, Interval.M5, bars[i:i + 1])[0] for i in range(len(bars))] == batch.tolist()
