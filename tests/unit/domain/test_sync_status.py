import pytest

from src.domain.errors import InvalidTransition
from src.domain.market_data import Interval, SeriesKey, Symbol
from src.domain.sync.status import OWNER_GONE, TRANSITIONS, SyncState, SyncStatus, check_transition, claim

KEY = SeriesKey(Symbol("NASDAQ", "AAPL"), Interval.D1, "tradingview")
S = SyncStatus
ALLOWED = {
    (S.PENDING, S.SYNCING), (S.PENDING, S.ERROR), (S.PENDING, S.INTERRUPTED),
    (S.SYNCING, S.COMPLETED), (S.SYNCING, S.ERROR), (S.SYNCING, S.INTERRUPTED),
    (S.COMPLETED, S.PENDING), (S.ERROR, S.PENDING), (S.INTERRUPTED, S.PENDING),
}
LEASE = 30.0


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


def test_every_change_gives_the_next_revision():
    requested = SyncState.requested(KEY, 1.0, "a", LEASE)
    started = requested.start(2.0, LEASE)
    renewed = started.renew(3.0, LEASE)
    assert [s.revision for s in (requested, started, renewed, renewed.complete(4.0, 1))] == [1, 2, 3, 4]
    assert renewed.status is SyncStatus.SYNCING and renewed.lease_until == 3.0 + LEASE


def test_a_run_holds_a_lease_that_ends_when_it_finishes():
    started = SyncState.requested(KEY, 1.0, "a", LEASE).start(2.0, LEASE)
    assert (started.owner, started.lease_until) == ("a", 2.0 + LEASE)
    assert started.complete(3.0, 1).lease_until is None
    assert started.interrupt(3.0, "shutdown").status is SyncStatus.INTERRUPTED


def test_a_run_is_abandoned_when_its_lease_expired_or_its_owner_is_gone():
    started = SyncState.requested(KEY, 1.0, "a", LEASE).start(2.0, LEASE)
    assert not started.abandoned(10.0, owner_gone=False)
    assert started.abandoned(10.0, owner_gone=True)
    assert started.abandoned(2.0 + LEASE, owner_gone=False)
    assert not started.complete(3.0, 1).abandoned(100.0, owner_gone=True)  # finished runs are not runs


def test_a_live_run_of_another_owner_is_never_overwritten():
    theirs = SyncState.requested(KEY, 1.0, "b", LEASE).start(2.0, LEASE)
    assert claim(theirs, KEY, owner="a", now=5.0, lease_s=LEASE, owner_gone=False) is None


def test_an_abandoned_run_is_interrupted_then_requested_again():
    theirs = SyncState.requested(KEY, 1.0, "b", LEASE).start(2.0, LEASE)
    claimed = claim(theirs, KEY, owner="a", now=5.0, lease_s=LEASE, owner_gone=True)
    assert claimed is not None and claimed.status is SyncStatus.PENDING and claimed.owner == "a"
    assert claimed.revision == theirs.revision + 2  # interrupted, then pending
    expired = claim(theirs, KEY, owner="a", now=2.0 + LEASE, lease_s=LEASE, owner_gone=False)
    assert expired is not None and expired.owner == "a"


def test_our_own_pending_request_is_the_run_and_our_stale_syncing_state_is_interrupted():
    pending = SyncState.requested(KEY, 1.0, "a", LEASE)
    assert claim(pending, KEY, owner="a", now=2.0, lease_s=LEASE, owner_gone=False) is pending
    stale = pending.start(2.0, LEASE)
    again = claim(stale, KEY, owner="a", now=3.0, lease_s=LEASE, owner_gone=False)
    assert again is not None and again.status is SyncStatus.PENDING and again.revision == stale.revision + 2


def test_a_first_claim_and_a_claim_after_a_finished_run_request_a_new_run():
    first = claim(None, KEY, owner="a", now=1.0, lease_s=LEASE, owner_gone=False)
    assert first == SyncState.requested(KEY, 1.0, "a", LEASE)
    done = first.start(2.0, LEASE).complete(3.0, 5, source_gaps=((60, 120),))
    again = claim(done, KEY, owner="b", now=4.0, lease_s=LEASE, owner_gone=False)
    assert again is not None and again.owner == "b" and again.source_gaps == ((60, 120),)


def test_the_reason_names_a_gone_owner():
    theirs = SyncState.requested(KEY, 1.0, "b", LEASE)
    interrupted = theirs.interrupt(2.0, OWNER_GONE)
    assert interrupted.error == OWNER_GONE and interrupted.finished_at == 2.0
