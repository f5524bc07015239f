"""The simulators' synthetic market: reproducible at any time, coarser bars exact aggregates, calendars right."""

import itertools
from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulators.binance.intervals import KlineInterval, parse_time_zone
from simulators.binance.market import BinanceMarket, split_minute
from simulators.binance.symbols import DEFAULT_SYMBOLS, decimal_text
from simulators.common.pricepath import MinutePath, aggregate, split_total
from simulators.yahoo.calendars import LONDON, US, london_holidays, us_early_closes, us_holidays


def path() -> MinutePath:
    return MinutePath(7, "X", start_ticks=10_000, sigma=0.001, lots_per_minute=50.0, origin_day=19_000)


def test_a_day_is_the_same_whatever_was_generated_before():
    late_first, early_first = path(), path()
    late = late_first.day(19_500).copy()
    early_first.day(19_010)
    assert np.array_equal(early_first.day(19_500), late)


def test_days_join_without_a_gap_and_bars_are_consistent():
    rows = path().minutes(19_100 * 1440 - 5, 19_100 * 1440 + 5)
    assert (rows[1:, 0] == rows[:-1, 3]).all()  # each minute opens at the previous close, across midnight
    assert (rows[:, 1] >= rows[:, [0, 3]].max(axis=1)).all() and (rows[:, 2] <= rows[:, [0, 3]].min(axis=1)).all()


def test_aggregate_matches_a_straightforward_reference():
    rows = path().minutes(19_200 * 1440, 19_200 * 1440 + 100)
    starts = np.array([0, 7, 30, 31, 99])
    bounds = [*starts.tolist(), 100]
    expected = [[rows[a, 0], rows[a:b, 1].max(), rows[a:b, 2].min(), rows[b - 1, 3], rows[a:b, 4].sum(),
                 rows[a:b, 5].sum()] for a, b in itertools.pairwise(bounds)]
    assert aggregate(rows, starts).tolist() == expected


@given(st.integers(0, 10**12), st.lists(st.floats(0.01, 100), min_size=1, max_size=80))
def test_split_total_adds_up_exactly(total, weights):
    parts = split_total(total, np.array(weights))
    assert int(parts.sum()) == total and (parts >= 0).all()


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2_000_000))
def test_sixty_seconds_aggregate_exactly_to_their_minute(minute_offset):
    spec = DEFAULT_SYMBOLS[0]
    market = BinanceMarket({spec.symbol: spec}, seed=3, live_since_ms=1_800_000_000_000)
    minute = spec.listed_ms // 60_000 + minute_offset
    row = market.minute_rows(spec, minute, minute + 1)[0]
    seconds = split_minute(row, spec, np.random.default_rng(minute_offset))
    assert aggregate(seconds, np.array([0]))[0].tolist() == row.tolist()
    assert (seconds[:, 7] <= seconds[:, 4]).all()  # taker volume within each second's volume


@pytest.mark.parametrize(("name", "moment", "expected"), [
    ("1w", 1_700_000_000_000, 1_699_833_600_000),  # Tuesday 2023-11-14 -> Monday 2023-11-13
    ("1M", 1_700_000_000_000, 1_698_796_800_000),  # -> 2023-11-01
    ("4h", 1_700_000_000_000, 1_699_992_000_000),
])
def test_kline_intervals_align_like_binance(name, moment, expected):
    assert KlineInterval(name).floor(moment) == expected
    assert KlineInterval(name).ceil(expected) == expected


def test_time_zones_within_minus_twelve_and_plus_fourteen_hours_are_accepted():
    assert parse_time_zone("-1:00") == -3_600_000 and parse_time_zone("05:45") == 20_700_000
    assert parse_time_zone("+14:00") == 50_400_000 and parse_time_zone("0") == 0
    assert parse_time_zone("+14:01") is None and parse_time_zone("UTC") is None


def test_prices_print_with_eight_decimals():
    assert decimal_text(12_345) == "0.00012345" and decimal_text(6_000_001_000_000) == "60000.01000000"


def test_nyse_holidays_and_early_closes_of_2024():
    assert sorted(us_holidays(2024)) == [date(2024, 1, 1), date(2024, 1, 15), date(2024, 2, 19), date(2024, 3, 29),
                                         date(2024, 5, 27), date(2024, 6, 19), date(2024, 7, 4), date(2024, 9, 2),
                                         date(2024, 11, 28), date(2024, 12, 25)]
    assert sorted(us_early_closes(2024)) == [date(2024, 7, 3), date(2024, 11, 29), date(2024, 12, 24)]
    assert US.session(date(2024, 3, 29)) is None


def test_london_bank_holidays_of_2024():
    assert sorted(london_holidays(2024)) == [date(2024, 1, 1), date(2024, 3, 29), date(2024, 4, 1),
                                             date(2024, 5, 6), date(2024, 5, 27), date(2024, 8, 26),
                                             date(2024, 12, 25), date(2024, 12, 26)]
    session = LONDON.session(date(2024, 12, 24))
    assert session is not None and session.end - session.start == 4 * 3600 + 30 * 60
