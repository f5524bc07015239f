"""`TimeZoneRules`: offsets by transition, and the one rule for local times in a gap or a fold."""

import calendar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from src.domain.errors import InvalidTimeZone
from src.domain.market_data.time_zone import TimeZoneRules

HOUR = 3600
# New York 2024 by hand: EST (-5h) until 2024-03-10 07:00 UTC, EDT (-4h) until 2024-11-03 06:00 UTC.
SPRING = calendar.timegm((2024, 3, 10, 7, 0, 0))
AUTUMN = calendar.timegm((2024, 11, 3, 6, 0, 0))
NEW_YORK = TimeZoneRules("America/New_York", -5 * HOUR, (SPRING, AUTUMN), (-4 * HOUR, -5 * HOUR))


def local(*wall: int) -> int:
    return calendar.timegm((*wall, 0))


def test_fixed_offset_converts_both_ways_and_is_named():
    kolkata = TimeZoneRules.fixed(19_800)
    assert kolkata.name == "UTC+05:30"
    assert kolkata.to_local(0) == 19_800
    assert kolkata.to_utc(19_800) == 0
    assert TimeZoneRules.utc() == TimeZoneRules.fixed(0) and TimeZoneRules.utc().is_fixed


def test_offset_changes_exactly_at_each_transition():
    assert NEW_YORK.offset_at(SPRING - 1) == -5 * HOUR
    assert NEW_YORK.offset_at(SPRING) == -4 * HOUR
    assert NEW_YORK.offset_at(AUTUMN - 1) == -4 * HOUR
    assert NEW_YORK.offset_at(AUTUMN) == -5 * HOUR


def test_ordinary_local_times_map_to_their_one_instant():
    assert NEW_YORK.to_utc(local(2024, 3, 8, 9, 30)) == calendar.timegm((2024, 3, 8, 14, 30, 0))
    assert NEW_YORK.to_utc(local(2024, 3, 11, 9, 30)) == calendar.timegm((2024, 3, 11, 13, 30, 0))


def test_a_local_time_skipped_by_a_gap_maps_to_the_transition_instant():
    assert NEW_YORK.to_utc(local(2024, 3, 10, 2, 0)) == SPRING
    assert NEW_YORK.to_utc(local(2024, 3, 10, 2, 30)) == SPRING
    assert NEW_YORK.to_utc(local(2024, 3, 10, 3, 0)) == SPRING  # 03:00 EDT is the transition itself
    assert NEW_YORK.to_utc(local(2024, 3, 10, 1, 59)) == SPRING - 60


def test_a_local_time_repeated_by_a_fold_maps_to_its_first_occurrence():
    assert NEW_YORK.to_utc(local(2024, 11, 3, 1, 0)) == AUTUMN - HOUR  # 01:00 EDT, not 01:00 EST
    assert NEW_YORK.to_utc(local(2024, 11, 3, 1, 59)) == AUTUMN - 60
    assert NEW_YORK.to_utc(local(2024, 11, 3, 2, 0)) == AUTUMN + HOUR  # 02:00 EST


@given(st.integers(min_value=SPRING - 3 * 86_400, max_value=AUTUMN + 3 * 86_400))
def test_local_to_utc_is_the_earliest_instant_at_or_after_the_wall_time(t):
    wall = NEW_YORK.to_local(t)
    mapped = NEW_YORK.to_utc(wall)
    assert mapped <= t and NEW_YORK.to_local(mapped) == wall
    assert all(NEW_YORK.to_local(earlier) < wall for earlier in range(mapped - 2 * HOUR, mapped, 300))


@given(
    st.sampled_from([local(2024, 3, 10, 0, 0), local(2024, 11, 3, 0, 0)]),
    st.integers(min_value=0, max_value=4 * HOUR),
    st.integers(min_value=0, max_value=2 * HOUR),
)
def test_local_to_utc_never_decreases(midnight, into_the_night, later_by):
    wall = midnight + into_the_night
    assert NEW_YORK.to_utc(wall) <= NEW_YORK.to_utc(wall + later_by)


@pytest.mark.parametrize(
    ("transitions", "offsets"),
    [((1, 2), (3600,)), ((2, 1), (3600, 0)), ((1,), (19 * HOUR,))],
    ids=["an offset missing", "transitions out of order", "offset beyond 18h"],
)
def test_inconsistent_rules_are_rejected_naming_the_timezone(transitions, offsets):
    with pytest.raises(InvalidTimeZone) as caught:
        TimeZoneRules("X", 0, transitions, offsets)
    assert caught.value.field == "timezone"
