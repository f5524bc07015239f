import calendar
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from src.domain.errors import InvalidInterval
from src.domain.market_data import Interval

# 1970 .. 2200, covering leap years (2000, 2024, 2100 is not one) and every month/week edge.
timestamps = st.integers(min_value=0, max_value=7_258_118_400)
INTRADAY = [i for i in Interval if i.is_intraday]


def test_thirteen_intervals_with_unique_codes():
    assert [i.code for i in Interval] == [
        "1m", "3m", "5m", "15m", "30m", "45m", "1h", "2h", "3h", "4h", "1d", "1w", "1M",
    ]


@pytest.mark.parametrize("code", ["1m", "3m", "5m", "15m", "30m", "45m", "1h", "2h", "3h", "4h", "1d", "1w", "1M"])
def test_parse_accepts_each_of_the_thirteen_names(code):
    assert Interval.parse(code).code == code


@pytest.mark.parametrize("code", ["1", "60", "1D", "1W", "D", "1H", "60m", " 1m", "1m "])
def test_parse_rejects_provider_codes_and_anything_else(code):
    with pytest.raises(InvalidInterval):
        Interval.parse(code)


def test_parse_month_is_never_minute():
    assert Interval.parse("1M") is Interval.MN1
    assert Interval.parse("1m") is Interval.M1


def test_parse_rejects_unknown_naming_the_field():
    with pytest.raises(InvalidInterval) as caught:
        Interval.parse("7m")
    assert caught.value.field == "interval"


@given(timestamps, st.sampled_from(list(Interval)))
def test_align_gives_the_open_of_the_half_open_bucket_containing_ts(ts, interval):
    opened = interval.align(ts)
    assert opened <= ts < interval.next_open(opened)
    assert interval.align(opened) == opened
    assert interval.is_aligned(opened)


@given(timestamps, st.sampled_from(INTRADAY))
def test_intraday_is_epoch_aligned(ts, interval):
    assert interval.align(ts) % interval.seconds == 0


@given(timestamps)
def test_day_opens_at_midnight_utc(ts):
    opened = datetime.fromtimestamp(Interval.D1.align(ts), UTC)
    assert (opened.hour, opened.minute, opened.second) == (0, 0, 0)
    assert opened.date() == datetime.fromtimestamp(ts, UTC).date()


@given(timestamps)
def test_week_opens_on_monday_midnight_utc(ts):
    opened = datetime.fromtimestamp(Interval.W1.align(ts), UTC)
    moment = datetime.fromtimestamp(ts, UTC)
    assert opened.weekday() == 0 and opened.time().isoformat() == "00:00:00"
    assert timedelta(0) <= moment - opened < timedelta(days=7)


@given(timestamps)
def test_month_opens_on_the_first_and_next_open_is_next_month(ts):
    opened = datetime.fromtimestamp(Interval.MN1.align(ts), UTC)
    moment = datetime.fromtimestamp(ts, UTC)
    assert (opened.year, opened.month, opened.day) == (moment.year, moment.month, 1)
    closes = datetime.fromtimestamp(Interval.MN1.next_open(Interval.MN1.align(ts)), UTC)
    days = calendar.monthrange(opened.year, opened.month)[1]
    assert closes - opened == timedelta(days=days)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2024-02-29T23:59:59", "2024-02-01T00:00:00"),  # leap day
        ("2024-03-01T00:00:00", "2024-03-01T00:00:00"),
        ("2100-02-28T12:00:00", "2100-02-01T00:00:00"),  # 2100 is not a leap year
        ("2024-12-31T23:59:59", "2024-12-01T00:00:00"),
    ],
)
def test_month_edges(moment, expected):
    ts = int(datetime.fromisoformat(moment).replace(tzinfo=UTC).timestamp())
    assert Interval.MN1.align(ts) == int(datetime.fromisoformat(expected).replace(tzinfo=UTC).timestamp())


def test_leap_year_february_month_is_29_days():
    feb = int(datetime(2024, 2, 1, tzinfo=UTC).timestamp())
    assert Interval.MN1.next_open(feb) - feb == 29 * 86_400


def test_week_edge_sunday_night_belongs_to_the_week_started_monday_before():
    sunday = int(datetime(2024, 3, 10, 23, 59, 59, tzinfo=UTC).timestamp())  # a Sunday
    monday = int(datetime(2024, 3, 4, tzinfo=UTC).timestamp())
    assert Interval.W1.align(sunday) == monday
    assert Interval.W1.align(sunday + 1) == monday + 7 * 86_400
