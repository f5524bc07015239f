"""`SeriesQuality`: flags merged run after run (never dropped below the bound), verdicts, excluded spans,
score history; `outside` against a plain Python reference."""

from dataclasses import replace
from itertools import pairwise

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from src.domain.quality import Anomaly, AnomalyFlag, FlagState, QualityThresholds, Severity, run_checks
from src.domain.quality.series import SeriesQuality, outside
from tests.unit.domain.quality_series import MINUTE, T0, columns_from_closes, context, grid, smooth_closes, with_values

THRESHOLDS = QualityThresholds()
spans = st.lists(st.tuples(st.integers(0, 200), st.integers(0, 30)), max_size=12).map(
    lambda pairs: [(first, first + length) for first, length in pairs])


def _flag(check: str, first: int, last: int, severity: Severity = Severity.ERROR,
          state: FlagState = FlagState.OPEN) -> AnomalyFlag:
    anomaly = Anomaly(check=check, severity=severity, bar_time=first, last_bar_time=last if last != first else None)
    return replace(AnomalyFlag.raised(anomaly, 0), state=state)


@given(spans, st.lists(st.integers(-10, 250), max_size=60))
def test_excluded_spans_are_sorted_disjoint_and_leave_out_exactly_the_bars_of_excluding_flags(pairs, times):
    flags = tuple(_flag(f"c{i}", first, last) for i, (first, last) in enumerate(pairs))
    quality = SeriesQuality(flags=flags)
    merged = quality.excluded_spans()
    assert all(a[1] < b[0] for a, b in pairwise(merged))
    reference = [not any(first <= t <= last for first, last in pairs) for t in times]
    assert outside(np.asarray(times, np.int64), merged).tolist() == reference


def test_cleared_info_and_series_findings_exclude_no_bar():
    flags = (
        _flag("price_spikes", 10, 10, state=FlagState.CLEARED),
        _flag("level_shifts", 20, 20, severity=Severity.INFO),
        _flag("missing_session_bars", 30, 40, severity=Severity.WARNING),
        _flag("zero_volume_runs", 50, 60, severity=Severity.WARNING, state=FlagState.CONFIRMED),
    )
    assert SeriesQuality(flags=flags).excluded_spans() == ((50, 60),)


def _report(columns, now):
    return run_checks(columns, context(columns, now=now, expected_times=grid(columns)), THRESHOLDS)


def test_a_run_opens_flags_a_second_identical_run_changes_none_and_a_fixed_bar_clears_its_flag():
    clean = columns_from_closes(smooth_closes(120))
    close = float(clean.close[60]) * 1.1
    broken = with_values(clean, 60, close=close, high=close * 1.001)
    first = SeriesQuality().after_run(_report(broken, T0 + 120 * MINUTE), rewritten=None, history_size=3,
                                      max_flags=100)
    [flag] = first.flags
    assert flag.key == ("price_spikes", T0 + 60 * MINUTE) and flag.state is FlagState.OPEN
    second = first.after_run(_report(broken, T0 + 121 * MINUTE), rewritten=None, history_size=3, max_flags=100)
    assert second.flags == first.flags and len(second.history) == 2
    fixed = second.after_run(_report(clean, T0 + 122 * MINUTE), rewritten=(T0, T0 + 200 * MINUTE), history_size=3,
                             max_flags=100)
    assert fixed.flags[0].state is FlagState.CLEARED and fixed.score == 100.0 > second.score


def test_a_flag_found_again_after_its_bar_was_rewritten_reopens_even_when_cleared():
    clean = columns_from_closes(smooth_closes(120))
    close = float(clean.close[60]) * 1.1
    broken = with_values(clean, 60, close=close, high=close * 1.001)
    now = T0 + 120 * MINUTE
    first = SeriesQuality().after_run(_report(broken, now), rewritten=None, history_size=5, max_flags=10)
    cleared = first.judged("price_spikes", T0 + 60 * MINUTE, confirm=False, now=now)
    assert cleared is not None and cleared.flags[0].state is FlagState.CLEARED
    unchanged = cleared.after_run(_report(broken, now + 60), rewritten=None, history_size=5, max_flags=10)
    assert unchanged.flags[0].state is FlagState.CLEARED
    rewritten = cleared.after_run(_report(broken, now + 60), rewritten=(T0 + 60 * MINUTE, T0 + 60 * MINUTE),
                                  history_size=5, max_flags=10)
    assert rewritten.flags[0].state is FlagState.OPEN and rewritten.flags[0].last_change == "flagged_after_rewrite"
    assert cleared.judged("price_spikes", T0, confirm=True, now=now) is None


@given(st.integers(1, 8), st.integers(1, 20))
def test_the_history_keeps_the_newest_runs_and_flags_never_exceed_their_bound(history_size, runs):
    columns = columns_from_closes(smooth_closes(80))
    quality = SeriesQuality()
    for run in range(runs):
        quality = quality.after_run(_report(columns, T0 + (80 + run) * MINUTE), rewritten=None,
                                    history_size=history_size, max_flags=3)
    assert len(quality.history) == min(runs, history_size)
    assert [p.checked_at for p in quality.history] == [T0 + (80 + r) * MINUTE for r in range(runs)][-history_size:]


@given(st.lists(st.sampled_from(list(FlagState)), min_size=1, max_size=15), st.integers(1, 10))
def test_bounded_flags_drop_the_oldest_cleared_first(states, bound):
    flags = tuple(replace(_flag("c", i, i), state=state, flagged_at=i, changed_at=i) for i, state in enumerate(states))
    anomalies = tuple(Anomaly(check="new", severity=Severity.ERROR, bar_time=1000 + i) for i in range(1))
    kept = SeriesQuality(flags=flags).with_live_findings(anomalies, now=5000, max_flags=bound).flags
    everything = [*flags, AnomalyFlag.raised(anomalies[0], 5000)]
    assert len(kept) == min(bound, len(everything))
    dropped = [f for f in everything if f not in kept]
    kept_cleared = [f for f in kept if f.state is FlagState.CLEARED]
    if any(f.state is not FlagState.CLEARED for f in dropped):  # others go only once every cleared one went
        assert kept_cleared == []
