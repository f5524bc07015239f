import pytest

from src.domain.errors import InvalidTransition
from src.domain.market_data import Interval, SeriesKey, Symbol
from src.domain.sync.status import TRANSITIONS, SyncState, SyncStatus, check_transition

KEY = SeriesKey(Symbol("NASDAQ", "AAPL"), Interval.D1, "tradingview")
ALLOWED = {
    (SyncStatus.PENDING, SyncStatus.SYNCING),
    (SyncStatus.PENDING, SyncStatus.ERROR),
    (SyncStatus.SYNCING, SyncStatus.COMPLETED),
    (SyncStatus.SYNCING, SyncStatus.ERROR),
    (SyncStatus.COMPLETED, SyncStatus.PENDING),
    (SyncStatus.ERROR, SyncStatus.PENDING),
}


@pytest.mark.parametrize("current", list(SyncStatus))
@pytest.mark.parametrize("target", list(SyncStatus))
def test_transition_table_is_exactly_the_lifecycle(current, target):
    if (current, target) in ALLOWED:
        check_transition(current, target)
        assert target in TRANSITIONS[current]
    else:
        with pytest.raises(InvalidTransition):
            check_transition(current, target)


def test_happy_path_records_times_and_bars():
    state = SyncState.requested(KEY, now=1.0).start(now=2.0).complete(now=3.0, bars_written=500)
    assert (state.status, state.requested_at, state.started_at, state.finished_at, state.bars_written) == (
        SyncStatus.COMPLETED, 1.0, 2.0, 3.0, 500,
    )


def test_failure_keeps_the_message_and_resync_clears_it():
    failed = SyncState.requested(KEY, now=1.0).start(now=2.0).fail(now=3.0, error="upstream down")
    assert failed.status is SyncStatus.ERROR and failed.error == "upstream down"
    again = failed.request(now=4.0)
    assert again.status is SyncStatus.PENDING and again.error is None and again.started_at is None


def test_cannot_complete_without_starting():
    with pytest.raises(InvalidTransition):
        SyncState.requested(KEY, now=1.0).complete(now=2.0, bars_written=1)


# --- incremental planning ---------------------------------------------------------------------------
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from src.domain.sync.planning import OVERLAP_BARS, bars_to_fetch  # noqa: E402


def test_a_new_series_fetches_everything_requested():
    assert bars_to_fetch(Interval.M1, 5000, None, now=1_700_000_000) == 5000


def test_an_up_to_date_series_refreshes_only_the_overlap():
    now = 1_700_000_030
    assert bars_to_fetch(Interval.M1, 5000, Interval.M1.align(now), now) == OVERLAP_BARS


def test_a_series_behind_fetches_the_missing_periods_plus_overlap():
    last = 1_700_000_000 - 1_700_000_000 % 60
    assert bars_to_fetch(Interval.M1, 5000, last, now=last + 10 * 60 + 5) == 10 + OVERLAP_BARS


def test_monthly_series_counts_calendar_months():
    jan = 1_704_067_200  # 2024-01-01
    apr = 1_711_929_600  # 2024-04-01
    assert bars_to_fetch(Interval.MN1, 100, jan, now=apr + 5) == 3 + OVERLAP_BARS


@given(
    st.sampled_from(list(Interval)),
    st.integers(min_value=1, max_value=20_000),
    st.integers(min_value=0, max_value=2_000_000_000),
    st.integers(min_value=0, max_value=50_000_000),
)
def test_planned_fetch_always_reaches_back_to_the_last_stored_bar(interval, requested, last, ahead):
    last_stored = interval.align(last)
    now = last_stored + ahead
    n = bars_to_fetch(interval, requested, last_stored, now)
    assert 1 <= n <= requested
    # Walking n periods back from the current bar must reach the last stored bar, unless capped.
    t = interval.align(now)
    for _ in range(n - 1):
        if t <= last_stored:
            break
        t = interval.align(t - 1)
    assert t <= last_stored or n == requested
