"""TradingView session strings read into weekly sessions, holidays and corrections (Monday = 0 here)."""

from datetime import date

import pytest

from src.domain.errors import InvalidSession
from src.domain.market_data.session_strings import parse_corrections, parse_holidays, parse_session
from src.domain.market_data.sessions import Session, WeeklySessions

REGULAR = (Session(570, 960),)  # 09:30-16:00
NONE = ()


def days(weekly: WeeklySessions) -> dict[str, tuple[Session, ...]]:
    return dict(zip(["mon", "tue", "wed", "thu", "fri", "sat", "sun"], weekly.days, strict=True))


def test_a_plain_session_trades_monday_to_friday():
    assert days(parse_session("0930-1600")) == {
        "mon": REGULAR, "tue": REGULAR, "wed": REGULAR, "thu": REGULAR, "fri": REGULAR, "sat": NONE, "sun": NONE,
    }


def test_24x7_is_a_whole_day_every_day():
    assert parse_session("24x7") == WeeklySessions.every_day((Session(0, 1440),))


def test_0000_0000_is_a_whole_day_that_starts_at_midnight():
    assert parse_session("0000-0000:1234567").days == ((Session(0, 1440),),) * 7


def test_an_end_at_0000_is_the_midnight_ending_the_same_trading_day():
    assert parse_session("1800-0000").days[0] == (Session(1080, 1440),)


def test_several_sessions_a_day_are_separated_by_commas():
    assert parse_session("0930-1130,1300-1500").days[0] == (Session(570, 690), Session(780, 900))


def test_an_overnight_session_opens_the_previous_calendar_day():
    assert parse_session("1800-1700").days[0] == (Session(1080 - 1440, 1020),)
    assert Session(-360, 1020).is_overnight


def test_equal_start_and_end_is_24_hours_opening_the_evening_before():
    assert parse_session("1700-1700").days[0] == (Session(-420, 1020),)


def test_day_digits_count_from_sunday():
    weekly = days(parse_session("1000-1400:17"))
    assert weekly["sun"] == weekly["sat"] == (Session(600, 840),)
    assert weekly["mon"] == NONE


def test_a_segment_with_days_replaces_the_default_on_those_days():
    weekly = days(parse_session("0900-1630|0900-1400:2"))
    assert weekly["mon"] == (Session(540, 840),)
    assert weekly["tue"] == weekly["fri"] == (Session(540, 990),)
    assert weekly["sat"] == NONE


def test_per_weekday_forms_combine():
    weekly = days(parse_session("0930-1600:23456|1000-1400:7"))
    assert weekly["fri"] == REGULAR
    assert weekly["sat"] == (Session(600, 840),)
    assert weekly["sun"] == NONE


def test_segments_naming_the_same_day_add_their_sessions_in_time_order():
    assert parse_session("1300-1500:2|0930-1130:2").days[0] == (Session(570, 690), Session(780, 900))


@pytest.mark.parametrize(("text", "first_weekday"), [("1;0900-1630", 6), ("0900-1630;6", 4), ("0900-1630", 0)])
def test_a_semicolon_digit_names_the_first_day_of_the_trading_week(text, first_weekday):
    assert parse_session(text).first_weekday == first_weekday


@pytest.mark.parametrize(
    "text",
    [
        "", "0930", "0930-", "930-1600", "09:30-16:00", "2400-0100", "0960-1000", "0930-1600:", "0930-1600:8",
        "0930-1600:0", "0930-1600:22", "0930-1600|", "0930-1600,", "0930-1600;8", "1;2;0930-1600", "24x7:1",
        "0930-1200,1100-1600", "1700-1600,1000-1200", "0930-1600|1500-1400:3", "0930 -1600", "0930-1600 :2",
    ],
)
def test_malformed_or_overlapping_session_strings_are_rejected_naming_the_field(text):
    with pytest.raises(InvalidSession) as caught:
        parse_session(text)
    assert caught.value.field == "session"


def test_holidays_are_dates_separated_by_commas():
    assert parse_holidays("20241225,20250101") == {date(2024, 12, 25), date(2025, 1, 1)}
    assert parse_holidays("") == frozenset()


@pytest.mark.parametrize("text", ["2024-12-25", "20241325", "20240230", "20241225,", "20241225;20250101"])
def test_malformed_holidays_are_rejected_naming_the_field(text):
    with pytest.raises(InvalidSession) as caught:
        parse_holidays(text)
    assert caught.value.field == "session_holidays"


def test_corrections_give_the_sessions_of_each_listed_date():
    corrected = parse_corrections("0930-1300:20241129,20241224;1000-1600:20250102")
    assert corrected == {
        date(2024, 11, 29): (Session(570, 780),),
        date(2024, 12, 24): (Session(570, 780),),
        date(2025, 1, 2): (Session(600, 960),),
    }


def test_a_correction_without_sessions_closes_the_day():
    assert parse_corrections(":20241225") == {date(2024, 12, 25): ()}
    assert parse_corrections("") == {}


def test_a_correction_may_hold_several_and_overnight_sessions():
    assert parse_corrections("1700-1200:20241129") == {date(2024, 11, 29): (Session(-420, 720),)}
    half_days = parse_corrections("0930-1130,1300-1400:20241224")
    assert half_days[date(2024, 12, 24)] == (Session(570, 690), Session(780, 840))


@pytest.mark.parametrize(
    "text", ["0930-1300", "0930-1300:2024112", "9-13:20241129", "0930-1300:20241129;", "0930-1200,1100-1300:20241129"]
)
def test_malformed_corrections_are_rejected_naming_the_field(text):
    with pytest.raises(InvalidSession) as caught:
        parse_corrections(text)
    assert caught.value.field == "session-correction"
