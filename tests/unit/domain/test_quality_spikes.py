"""Price spikes and level shifts: a bad tick reverts, a real jump persists."""

import itertools
import math
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from src.domain.quality.model import QualityThresholds, SeriesColumns
from src.domain.quality.spikes import move_scales, spike_checks
from tests.unit.domain.quality_series import MINUTE, T0, columns_from_closes, smooth_closes, with_values

BASE = smooth_closes(400)
DEFAULTS = QualityThresholds()
ONLY_Z = QualityThresholds(spike_range_multiple=1e9)  # the neighbour rule never fires
ONLY_NEIGHBOURS = QualityThresholds(spike_z=1e9)  # the z rule never fires


def _checked(columns: SeriesColumns, thresholds: QualityThresholds = DEFAULTS):
    spikes, shifts = spike_checks(columns, thresholds)
    return [a.bar_time for a in spikes.anomalies], [a.bar_time for a in shifts.anomalies]


def _at(position: int) -> int:
    return T0 + position * MINUTE


def _reference_z(closes: list[float]) -> list[float]:
    """Robust z-scores of log returns, straight from the definition (median, MAD, 1.4826)."""
    returns = [math.log(b) - math.log(a) for a, b in itertools.pairwise(closes)]
    median = statistics.median(returns)
    mad = statistics.median(abs(r - median) for r in returns)
    spread = 1.4826 * mad if mad > 0 else 1.2533 * statistics.fmean(abs(r - median) for r in returns)
    return [(r - median) / spread for r in returns]


def test_a_smooth_series_has_no_spikes_and_no_level_shifts():
    spikes, shifts = spike_checks(columns_from_closes(BASE), DEFAULTS)
    assert (spikes.passed, shifts.passed, spikes.value, shifts.value) == (True, True, 0.0, 0.0)


def test_a_bad_tick_that_reverts_is_a_spike_on_its_bar_only():
    closes = [*BASE]
    closes[200] *= 1.2
    spikes, shifts = _checked(columns_from_closes(closes))
    assert (spikes, shifts) == ([_at(200)], [])


def test_a_real_jump_that_persists_is_a_level_shift_not_a_spike():
    closes = [c * (1.2 if i >= 200 else 1.0) for i, c in enumerate(BASE)]
    spikes, shifts = _checked(columns_from_closes(closes))
    assert (spikes, shifts) == ([], [_at(200)])


def test_a_bad_tick_lasting_two_bars_flags_both():
    closes = [c * (0.8 if i in (200, 201) else 1.0) for i, c in enumerate(BASE)]
    assert _checked(columns_from_closes(closes)) == ([_at(200), _at(201)], [])


def test_a_jump_in_the_last_bars_is_judged_only_once_as_many_bars_follow_as_the_live_path_needs():
    """`spike_neighbours` (5) bars must follow a jump, as on the live path, whatever it did meanwhile."""
    closes = [c * (1.2 if len(BASE) - 7 <= i < len(BASE) - 5 else 1.0) for i, c in enumerate(BASE)]
    assert _checked(columns_from_closes(closes[:-2]), ONLY_Z) == ([], [])  # reverted, but only 4 bars follow
    assert _checked(columns_from_closes(closes), ONLY_Z) == ([_at(len(BASE) - 7), _at(len(BASE) - 6)], [])
    shifted = [c * (1.2 if i >= len(BASE) - 6 else 1.0) for i, c in enumerate(BASE)]
    assert _checked(columns_from_closes(shifted[:-1]), ONLY_Z) == ([], [])  # 4 bars follow the jump
    assert _checked(columns_from_closes(shifted), ONLY_Z) == ([], [_at(len(BASE) - 6)])


def test_a_high_far_beyond_the_neighbours_is_a_bad_tick_even_with_a_normal_close():
    columns = columns_from_closes(BASE)
    spoiled = with_values(columns, 300, high=float(columns.high[300]) * 1.2)
    spikes, _ = spike_checks(spoiled, DEFAULTS)
    (anomaly,) = spikes.anomalies
    assert anomaly.bar_time == _at(300) and "return_z" not in anomaly.values
    assert anomaly.values["beyond_neighbours"] == pytest.approx(math.log(1.2), abs=0.01)


def test_a_low_far_below_the_neighbours_is_a_bad_tick():
    columns = columns_from_closes(BASE)
    spoiled = with_values(columns, 150, low=float(columns.low[150]) * 0.9)
    assert _checked(spoiled) == ([_at(150)], [])


def test_the_first_and_last_bars_are_not_judged_against_one_side_only():
    columns = columns_from_closes(BASE)
    spoiled = with_values(with_values(columns, 0, high=float(columns.high[0]) * 1.5), len(BASE) - 1,
                          high=float(columns.high[-1]) * 1.5)
    assert _checked(spoiled, ONLY_NEIGHBOURS) == ([], [])


def test_robust_z_equal_to_k_is_not_a_jump_and_just_above_is():
    closes = [*BASE]
    closes[200] *= 1.03
    z = abs(_reference_z(closes)[199])
    columns = columns_from_closes(closes)
    at_limit = QualityThresholds(spike_z=z * (1 + 1e-9), spike_range_multiple=1e9)
    below = QualityThresholds(spike_z=z * (1 - 1e-9), spike_range_multiple=1e9)
    assert _checked(columns, at_limit) == ([], [])
    assert _checked(columns, below) == ([_at(200)], [])


def test_the_reported_return_z_matches_the_definition():
    closes = [*BASE]
    closes[200] *= 1.05
    spikes, _ = spike_checks(columns_from_closes(closes), DEFAULTS)
    assert spikes.anomalies[0].values["return_z"] == pytest.approx(_reference_z(closes)[199], rel=1e-9)


def test_beyond_the_neighbours_by_exactly_the_limit_is_not_a_spike():
    columns = columns_from_closes(BASE)
    spoiled = with_values(columns, 300, high=float(columns.high[300]) * 1.02)
    scales = move_scales(spoiled)
    neighbours = [float(spoiled.high[i]) for i in (*range(295, 300), *range(301, 306))]
    beyond = math.log(float(spoiled.high[300])) - math.log(max(neighbours))
    multiple = beyond / max(scales.bar_range, scales.return_spread)
    at_limit = QualityThresholds(spike_z=1e9, spike_range_multiple=multiple * (1 + 1e-9))
    below = QualityThresholds(spike_z=1e9, spike_range_multiple=multiple * (1 - 1e-9))
    assert _checked(spoiled, at_limit) == ([], [])
    assert _checked(spoiled, below) == ([_at(300)], [])


@pytest.mark.parametrize(("back_to", "bad_tick"), [(0.5, True), (0.5 + 1e-6, False)])
def test_a_jump_reverts_when_it_comes_back_to_the_revert_fraction(back_to, bad_tick):
    """Up 0.2 (ln), then down to 0.1 above where it started: exactly half of the jump remains."""
    closes = [100.0 * (1 + 0.001 * math.sin(i)) for i in range(60)]
    base = closes[29]
    closes[30] = base * math.exp(0.2)
    closes[31:] = [base * math.exp(0.2 * back_to) * (1 + 0.001 * math.sin(i)) for i in range(29)]
    closes[31] = base * math.exp(0.2 * back_to)
    spikes, shifts = _checked(columns_from_closes(closes), QualityThresholds(spike_range_multiple=1e9,
                                                                             spike_revert_bars=1))
    # When it does not revert, both moves are level shifts: up, then part of the way down.
    assert (spikes, shifts) == (([_at(30)], []) if bad_tick else ([], [_at(30), _at(31)]))


def test_bars_with_non_positive_prices_are_not_judged():
    closes = [*BASE]
    closes[100] = 0.0
    columns = columns_from_closes(closes)
    columns = with_values(columns, 100, low=0.0, open=0.0)
    spikes, _ = spike_checks(columns, DEFAULTS)
    assert _at(100) not in [a.bar_time for a in spikes.anomalies]


@given(st.lists(st.floats(min_value=-0.05, max_value=0.05), min_size=2, max_size=60))
def test_scales_match_the_straight_definition(steps):
    closes = [100.0]
    for step in steps:
        closes.append(closes[-1] * math.exp(step))
    scales = move_scales(columns_from_closes(closes))
    returns = [math.log(b) - math.log(a) for a, b in itertools.pairwise(closes)]
    median = statistics.median(returns)
    mad = statistics.median(abs(r - median) for r in returns)
    mean_deviation = statistics.fmean(abs(r - median) for r in returns)
    assert scales.return_median == pytest.approx(median, abs=1e-12)
    assert scales.return_spread == pytest.approx(1.4826 * mad if mad > 0 else 1.2533 * mean_deviation, abs=1e-12)


@given(st.lists(st.floats(min_value=-0.01, max_value=0.01), min_size=30, max_size=120),
       st.integers(min_value=8, max_value=20), st.floats(min_value=0.3, max_value=1.0))
def test_a_reverting_tick_is_always_a_spike_and_a_persistent_jump_a_level_shift(steps, at, size):
    closes = [100.0]
    for step in steps:
        closes.append(closes[-1] * math.exp(step))
    bad_tick = [c * (math.exp(size) if i == at else 1.0) for i, c in enumerate(closes)]
    shifted = [c * (math.exp(size) if i >= at else 1.0) for i, c in enumerate(closes)]
    # Whatever the base does (even returns so alike that ordinary moves count as jumps), the tick is a
    # spike and the persistent move a level shift.
    assert _at(at) in _checked(columns_from_closes(bad_tick))[0]
    spikes, shifts = _checked(columns_from_closes(shifted), ONLY_Z)
    assert _at(at) in shifts and _at(at) not in spikes
