"""The anomaly flag lifecycle: the transition table, and how a flag follows the checks."""

import pytest

from src.domain.errors import InvalidTransition
from src.domain.quality.flags import TRANSITIONS, AnomalyFlag, FlagChange, FlagState, next_state
from src.domain.quality.model import Anomaly, Severity

OPEN, CONFIRMED, CLEARED = FlagState.OPEN, FlagState.CONFIRMED, FlagState.CLEARED
ALLOWED = {
    (OPEN, FlagChange.CONFIRMED_BY_USER): CONFIRMED,
    (OPEN, FlagChange.CLEARED_BY_USER): CLEARED,
    (OPEN, FlagChange.FLAGGED_AFTER_REWRITE): OPEN,
    (OPEN, FlagChange.NO_LONGER_FLAGGED): CLEARED,
    (CONFIRMED, FlagChange.CLEARED_BY_USER): CLEARED,
    (CONFIRMED, FlagChange.FLAGGED_AFTER_REWRITE): OPEN,
    (CONFIRMED, FlagChange.NO_LONGER_FLAGGED): CLEARED,
    (CLEARED, FlagChange.CONFIRMED_BY_USER): CONFIRMED,
    (CLEARED, FlagChange.FLAGGED_AFTER_REWRITE): OPEN,
}
SPIKE = Anomaly(check="price_spikes", severity=Severity.ERROR, bar_time=600, values={"close": 150.0})
RESPIKE = Anomaly(check="price_spikes", severity=Severity.ERROR, bar_time=600, values={"close": 140.0})


@pytest.mark.parametrize("state", list(FlagState))
@pytest.mark.parametrize("change", list(FlagChange))
def test_transition_table_is_exactly_the_lifecycle(state, change):
    if (state, change) in ALLOWED:
        assert next_state(state, change) is ALLOWED[(state, change)] is TRANSITIONS[(state, change)]
    else:
        with pytest.raises(InvalidTransition):
            next_state(state, change)


def test_a_raised_flag_is_open_and_excludes_its_bar():
    flag = AnomalyFlag.raised(SPIKE, now=10)
    assert (flag.state, flag.flagged_at, flag.changed_at, flag.key, flag.excluded_span) == (
        OPEN, 10, 10, ("price_spikes", 600), (600, 600),
    )


def test_a_user_confirms_or_clears_and_the_flag_records_when_and_why():
    confirmed = AnomalyFlag.raised(SPIKE, now=10).confirm(now=20)
    cleared = confirmed.clear(now=30)
    assert (confirmed.state, confirmed.changed_at, confirmed.last_change) == (
        CONFIRMED, 20, FlagChange.CONFIRMED_BY_USER,
    )
    assert (cleared.state, cleared.changed_at, cleared.excluded_span) == (CLEARED, 30, None)


def test_clearing_twice_is_an_invalid_transition():
    with pytest.raises(InvalidTransition):
        AnomalyFlag.raised(SPIKE, now=10).clear(now=20).clear(now=30)


def test_a_cleared_flag_stays_cleared_when_the_unchanged_bar_is_flagged_again():
    cleared = AnomalyFlag.raised(SPIKE, now=10).clear(now=20)
    assert cleared.after_check(SPIKE, bar_rewritten=False, now=30) == cleared


def test_a_cleared_flag_reopens_when_the_rewritten_bar_is_flagged_again():
    cleared = AnomalyFlag.raised(SPIKE, now=10).clear(now=20)
    reopened = cleared.after_check(RESPIKE, bar_rewritten=True, now=30)
    assert (reopened.state, reopened.anomaly, reopened.last_change, reopened.flagged_at) == (
        OPEN, RESPIKE, FlagChange.FLAGGED_AFTER_REWRITE, 10,
    )


def test_a_confirmed_flag_reopens_when_the_rewritten_bar_is_still_suspect():
    confirmed = AnomalyFlag.raised(SPIKE, now=10).confirm(now=20)
    assert confirmed.after_check(RESPIKE, bar_rewritten=True, now=30).state is OPEN


def test_a_flag_takes_new_values_without_a_transition_when_the_bar_was_not_rewritten():
    run = Anomaly(check="flat_bars_runs", severity=Severity.WARNING, bar_time=600, values={"bars": 30.0})
    grown = Anomaly(check="flat_bars_runs", severity=Severity.WARNING, bar_time=600, values={"bars": 31.0})
    confirmed = AnomalyFlag.raised(run, now=10).confirm(now=20)
    after = confirmed.after_check(grown, bar_rewritten=False, now=30)
    assert (after.state, after.anomaly, after.changed_at) == (CONFIRMED, grown, 20)


@pytest.mark.parametrize("state", [OPEN, CONFIRMED])
def test_a_repaired_bar_clears_its_open_or_confirmed_flag(state):
    flag = AnomalyFlag.raised(SPIKE, now=10)
    flag = flag.confirm(now=15) if state is CONFIRMED else flag
    resolved = flag.after_check(None, bar_rewritten=True, now=30)
    assert (resolved.state, resolved.last_change) == (CLEARED, FlagChange.NO_LONGER_FLAGGED)


def test_a_cleared_flag_no_longer_flagged_is_left_as_it_is():
    cleared = AnomalyFlag.raised(SPIKE, now=10).clear(now=20)
    assert cleared.after_check(None, bar_rewritten=False, now=30) is cleared


def test_a_confirmed_run_excludes_every_bar_it_covers():
    run = Anomaly(check="zero_volume_runs", severity=Severity.WARNING, bar_time=600, last_bar_time=2400)
    assert AnomalyFlag.raised(run, now=10).confirm(now=20).excluded_span == (600, 2400)


@pytest.mark.parametrize(("check", "severity"), [
    ("level_shifts", Severity.INFO), ("missing_session_bars", Severity.WARNING), ("stale_series", Severity.WARNING),
])
def test_info_flags_and_findings_about_the_series_exclude_no_bar(check, severity):
    finding = Anomaly(check=check, severity=severity, bar_time=600)
    assert AnomalyFlag.raised(finding, now=10).excluded_span is None
