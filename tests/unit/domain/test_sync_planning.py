"""The sync planner's rules, one test each, and the property that any stored subset and any request end in
a complete window (a simulated source answering the plan's fetches)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from src.domain.market_data import Interval, SessionCalendar
from src.domain.sync.planning import (
    MAX_ROUNDS,
    OVERLAP_BARS,
    Bounds,
    Fetch,
    advance,
    learn,
    merge_gaps,
    merged,
    plan,
    window,
    without_gaps,
)

UTC = SessionCalendar.always_open()
M1 = Interval.M1
NOW = 1_700_000_000 + 37  # inside the forming 1m bar
FORMING = NOW - NOW % 60


def times(*values: int) -> np.ndarray:
    return np.array(values, np.int64)


def minutes(first: int, count: int) -> np.ndarray:
    return np.arange(first, first + 60 * count, 60, dtype=np.int64)


# --- the window ----------------------------------------------------------------------------------------


def test_the_window_is_the_newest_n_slots_of_the_calendar_ending_at_the_forming_bar():
    slots = window(UTC, M1, 5, NOW, Bounds())
    assert list(slots) == [FORMING - 60 * k for k in range(4, -1, -1)]


def test_known_source_gaps_are_not_candidates_and_push_the_window_back():
    gap = (FORMING - 120, FORMING - 60)
    slots = window(UTC, M1, 5, NOW, Bounds(gaps=(gap,)))
    assert list(slots) == [FORMING - 60 * k for k in (6, 5, 4, 3, 0)]


def test_the_window_ends_at_the_newest_bar_the_source_has_and_starts_at_its_history():
    assert window(UTC, M1, 5, NOW, Bounds(newest=FORMING - 600))[-1] == FORMING - 600
    slots = window(UTC, M1, 50, NOW, Bounds(history_start=FORMING - 180))
    assert list(slots) == [FORMING - 180, FORMING - 120, FORMING - 60, FORMING]
    assert list(window(UTC, M1, 50, NOW, Bounds(first_bar=FORMING - 60))) == [FORMING - 60, FORMING]


def test_monthly_windows_count_calendar_months():
    slots = window(UTC, Interval.MN1, 3, 1_711_929_600 + 5, Bounds())  # 2024-04-01 + 5 s
    assert list(slots) == [1_706_745_600, 1_709_251_200, 1_711_929_600]  # Feb, Mar, Apr 2024


def test_without_gaps_removes_exactly_the_slots_inside_a_gap():
    slots = minutes(0, 10)
    assert list(without_gaps(slots, ((60, 120), (300, 300)))) == [0, 180, 240, 360, 420, 480, 540]


# --- the plan ------------------------------------------------------------------------------------------


def test_a_new_series_is_one_count_fetch_of_the_whole_window():
    candidates = minutes(FORMING - 60 * 99, 100)
    result = plan(candidates, times(), page=5_000)
    assert result.fetches == (Fetch(int(candidates[0]), FORMING, 100, newest=True),)


def test_an_up_to_date_series_refetches_only_the_overlap():
    candidates = minutes(FORMING - 60 * 99, 100)
    result = plan(candidates, candidates, page=5_000)
    assert result.fetches == (Fetch(FORMING - 60, FORMING, OVERLAP_BARS, newest=True),)


def test_the_overlap_reaches_back_to_the_newest_stored_bar():
    candidates = minutes(FORMING - 60 * 99, 100)
    result = plan(candidates, candidates[:90], page=5_000)
    assert result.fetches == (Fetch(int(candidates[89]), FORMING, 11, newest=True),)


def test_a_partial_stored_bar_counts_as_missing():
    candidates = minutes(FORMING - 60 * 99, 100)
    complete = np.delete(candidates, 40)  # the bar at index 40 is stored but partial
    fetches = plan(candidates, complete, page=10).fetches
    assert Fetch(int(candidates[40]), int(candidates[40]), 1, newest=False) in fetches


def test_refresh_refetches_the_whole_window():
    candidates = minutes(FORMING - 60 * 99, 100)
    assert plan(candidates, candidates, page=5_000, refresh=True).fetches == (
        Fetch(int(candidates[0]), FORMING, 100, newest=True),)


def test_holes_far_from_the_newest_bar_are_fetched_by_range():
    candidates = minutes(FORMING - 60 * 19_999, 20_000)
    complete = np.concatenate((candidates[:1_000], candidates[1_500:]))
    fetches = plan(candidates, complete, page=5_000).fetches
    assert fetches == (Fetch(int(candidates[1_000]), int(candidates[1_499]), 500, newest=False),
                       Fetch(FORMING - 60, FORMING, 2, newest=True))


def test_runs_merge_only_when_that_costs_no_extra_request():
    assert merged([(0, 9), (20, 29)], page=100) == [(0, 29)]  # 30 slots: still one request
    assert merged([(0, 99), (150, 199)], page=100) == [(0, 199)]  # 2 requests either way
    assert merged([(0, 99), (250, 299)], page=100) == [(0, 99), (250, 299)]  # 3 requests instead of 2
    assert merged([(0, 49), (60, 99), (250, 260)], page=100) == [(0, 99), (250, 260)]


def test_nothing_to_do_for_an_empty_window():
    assert plan(times(), times(), page=10).done


# --- learning ------------------------------------------------------------------------------------------


def test_a_count_fetch_short_of_what_was_asked_marks_the_start_of_history():
    candidates = minutes(0, 10)
    found = learn(Fetch(0, 540, 10, newest=True), candidates, minutes(240, 6), 10, None)
    assert found.first_bar == 240 and found.gaps == ()


def test_slots_a_fetch_covered_but_did_not_return_are_source_gaps():
    candidates = minutes(0, 10)
    returned = times(0, 60, 240, 300, 540)
    found = learn(Fetch(0, 540, 10, newest=False), candidates, returned, 10, 0)
    assert found.gaps == ((120, 180), (360, 480)) and found.history_start is None


def test_slots_after_the_newest_returned_bar_are_not_gaps():
    candidates = minutes(0, 10)
    found = learn(Fetch(0, 540, 10, newest=True), candidates, minutes(0, 5), 5, None)
    assert found.gaps == ()


def test_an_empty_range_before_every_known_bar_is_the_start_of_history_not_a_gap():
    candidates = minutes(0, 10)
    found = learn(Fetch(0, 240, 5, newest=False), candidates, times(), 5, 300)
    assert (found.gaps, found.history_start) == ((), 241)  # nothing at or before the range's end
    inner = learn(Fetch(300, 420, 3, newest=False), candidates, times(), 3, 0)  # bars exist before it
    assert inner.gaps == ((300, 420),)


def test_gaps_merge_into_sorted_disjoint_stretches_and_old_ones_are_dropped():
    assert merge_gaps(((0, 60), (300, 360)), ((60, 120), (600, 600))) == ((0, 120), (300, 360), (600, 600))
    assert merge_gaps(((0, 60), (300, 360)), (), keep_from=200) == ((300, 360),)


def test_advance_records_gaps_history_and_the_newest_bar():
    candidates = minutes(0, 10)
    answers = [(Fetch(0, 540, 10, newest=True), times(120, 180, 300, 360))]
    after = advance(Bounds(), answers, candidates, None)
    assert after == Bounds(gaps=((240, 240),), first_bar=120, newest=360)


# --- the property: any stored subset + any request -> a complete window ---------------------------------


class Source:
    """Bars at every minute from `first` to the forming bar, except `holes`."""

    def __init__(self, first: int, holes: set[int]) -> None:
        self.times = np.array([t for t in range(first, FORMING + 60, 60) if t not in holes], np.int64)
        self.requests = 0

    def answer(self, fetch: Fetch, page: int) -> np.ndarray:
        self.requests += -(-fetch.slots // page)
        if fetch.newest:
            return self.times[-fetch.slots:]
        return self.times[(self.times >= fetch.start) & (self.times <= fetch.end)]


def sync(source: Source, stored: set[int], n_bars: int, page: int) -> tuple[set[int], int]:
    """A straightforward driver: plan, answer, store, learn, as the sync service does."""
    bounds, rounds = Bounds(), 0
    for rounds in range(1, MAX_ROUNDS + 1):
        candidates = window(UTC, M1, n_bars, NOW, bounds)
        complete = np.array(sorted(stored), np.int64)
        result = plan(candidates, complete, page=page, overlap=rounds == 1)
        if result.done:
            break
        answers = [(f, source.answer(f, page)) for f in result.fetches]
        oldest = min(stored) if stored else None
        for _, returned in answers:
            stored |= set(returned.tolist())
        after = advance(bounds, answers, candidates, oldest)
        if after == bounds:
            break
        bounds = after
    return stored, rounds


@settings(max_examples=200, deadline=None)
@given(
    history=st.integers(min_value=1, max_value=3_000),
    n_bars=st.integers(min_value=1, max_value=2_500),
    page=st.sampled_from([50, 500, 5_000]),
    stored_picks=st.lists(st.integers(min_value=0, max_value=3_000), max_size=400),
    runs=st.lists(st.tuples(st.integers(0, 3_000), st.integers(1, 400)), max_size=4),
    holes=st.lists(st.integers(min_value=0, max_value=3_000), max_size=30),
)
def test_any_stored_subset_and_any_request_end_in_a_complete_window(history, n_bars, page, stored_picks, runs,
                                                                     holes):
    first = FORMING - 60 * (history - 1)
    hole_times = {FORMING - 60 * h for h in holes if h < history - 1}  # the forming bar always trades
    source = Source(first, hole_times)
    stored = {FORMING - 60 * k for k in stored_picks} | {
        FORMING - 60 * (start + i) for start, length in runs for i in range(length)}
    stored = {t for t in stored if t >= first and t not in hole_times}
    stored, rounds = sync(source, stored, n_bars, page)
    newest_n = set(source.times[-n_bars:].tolist())
    assert newest_n <= stored  # the newest n_bars bars the source has are all stored
    assert rounds <= MAX_ROUNDS
