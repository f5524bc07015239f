"""`time_zone_rules` against `zoneinfo` itself: the same offset at every instant, each change to the second."""

import calendar
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from src.domain.errors import InvalidTimeZone
from src.infrastructure.timezones import time_zone_rules

ZONES = ["America/New_York", "Europe/London", "Asia/Kolkata", "Etc/UTC", "Australia/Sydney", "Australia/Lord_Howe"]
FIRST, LAST = 2015, 2030
START = calendar.timegm((FIRST, 1, 1, 0, 0, 0))
END = calendar.timegm((LAST + 1, 1, 1, 0, 0, 0))


def zoneinfo_offset(name: str, t: int) -> int:
    offset = datetime.fromtimestamp(t, ZoneInfo(name)).utcoffset()
    assert offset is not None
    return int(offset.total_seconds())


@pytest.mark.parametrize(("name", "changes_per_year"), [
    ("America/New_York", 2), ("Europe/London", 2), ("Asia/Kolkata", 0), ("Etc/UTC", 0), ("Australia/Sydney", 2),
    ("Australia/Lord_Howe", 2),
])
def test_every_offset_change_is_found_to_the_second(name, changes_per_year):
    rules = time_zone_rules(name, FIRST, LAST)
    assert len(rules.transitions) == changes_per_year * (LAST - FIRST + 1)
    assert rules.base_offset == zoneinfo_offset(name, START)
    for transition, offset in zip(rules.transitions, rules.offsets, strict=True):
        assert zoneinfo_offset(name, transition) == offset
        assert zoneinfo_offset(name, transition - 1) != offset


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ZONES), st.integers(min_value=START, max_value=END - 1))
def test_the_offset_at_any_instant_is_zoneinfos(name, t):
    assert time_zone_rules(name, FIRST, LAST).offset_at(t) == zoneinfo_offset(name, t)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ZONES), st.integers(min_value=START + 86_400, max_value=END - 86_400))
@example("America/New_York", calendar.timegm((2024, 3, 10, 2, 30, 0)))  # gap
@example("America/New_York", calendar.timegm((2024, 11, 3, 1, 30, 0)))  # fold
@example("Europe/London", calendar.timegm((2024, 3, 31, 1, 0, 0)))  # gap starts
@example("Australia/Sydney", calendar.timegm((2024, 4, 7, 2, 30, 0)))  # fold
@example("Australia/Lord_Howe", calendar.timegm((2024, 10, 6, 2, 15, 0)))  # a 30-minute gap
def test_wall_times_map_to_zoneinfos_first_occurrence_or_the_transition_that_skips_them(name, wall_seconds):
    zone = ZoneInfo(name)
    wall = datetime.fromtimestamp(wall_seconds, UTC).replace(tzinfo=None)
    first_occurrence = int(wall.replace(tzinfo=zone, fold=0).timestamp())
    exists = datetime.fromtimestamp(first_occurrence, zone).replace(tzinfo=None) == wall
    mapped = time_zone_rules(name, FIRST, LAST).to_utc(wall_seconds)
    if exists:
        assert mapped == first_occurrence
    else:  # skipped by a gap: the transition, the first instant whose wall time is past it
        assert datetime.fromtimestamp(mapped, zone).replace(tzinfo=None) > wall
        assert datetime.fromtimestamp(mapped - 1, zone).replace(tzinfo=None) < wall


def test_rules_are_cached_per_name_and_years():
    assert time_zone_rules("America/New_York", 2020, 2021) is time_zone_rules("America/New_York", 2020, 2021)
    assert time_zone_rules("America/New_York", 2020, 2022) is not time_zone_rules("America/New_York", 2020, 2021)


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "", "../../etc/passwd", "/usr/share/zoneinfo/UTC"])
def test_an_unknown_zone_is_a_clear_error_naming_the_field(name):
    with pytest.raises(InvalidTimeZone, match="unknown time zone") as caught:
        time_zone_rules(name, 2024, 2024)
    assert caught.value.field == "timezone"


def test_a_reversed_year_range_is_refused():
    with pytest.raises(ValueError, match="before"):
        time_zone_rules("Etc/UTC", 2025, 2024)
