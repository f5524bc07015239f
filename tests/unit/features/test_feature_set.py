"""Feature set v1: contents, values against an independent pandas/TA-Lib reference, no look-ahead,
finite-or-NaN values, and the declared lookback of every feature."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from src.domain.errors import DomainError, UnknownFeatureSet
from src.domain.features import FEATURE_SETS, FEATURES_V1, feature_set
from src.domain.indicators import Warmup, history_start
from src.domain.indicators.warmup import TOLERANCE
from tests.unit.indicators.series import (
    assert_columns_close,
    bar_draws,
    columns_from_draws,
    random_columns,
)

from .reference import reference_v1

OFFSETS = np.array([-5 * 3600, 0, 5 * 3600 + 1800, 9 * 3600], dtype=np.int64)


def offsets_for(columns):
    """A UTC offset per session, as a calendar would give."""
    return OFFSETS[columns.session_id % len(OFFSETS)]


def test_v1_has_at_least_60_named_and_described_features():
    assert len(FEATURES_V1.features) >= 60
    assert len(set(FEATURES_V1.names)) == len(FEATURES_V1.names)
    assert all(feature.description for feature in FEATURES_V1.features)
    assert feature_set("v1") is FEATURES_V1 and FEATURE_SETS == {"v1": FEATURES_V1}


def test_an_unknown_version_raises_a_domain_error_naming_the_version():
    with pytest.raises(UnknownFeatureSet) as raised:
        feature_set("v0")
    assert isinstance(raised.value, DomainError) and raised.value.field == "version"
    assert "'v0'" in str(raised.value) and "v1" in str(raised.value)


@pytest.mark.parametrize("seed", [41, 42])
def test_v1_values_equal_an_independent_pandas_and_talib_reference(seed):
    columns = random_columns(seed, 3_000)
    offsets = offsets_for(columns)
    values = FEATURES_V1.compute(columns, offsets)
    expected = reference_v1(columns, offsets)
    assert list(expected) == list(values)
    assert_columns_close(values, expected, rtol=1e-9)


def test_utc_offsets_move_the_calendar_features():
    columns = random_columns(43, 100)
    utc = FEATURES_V1.compute(columns, np.zeros(100, dtype=np.int64))
    tokyo = FEATURES_V1.compute(columns, np.full(100, 9 * 3600, dtype=np.int64))
    assert (tokyo["hour_of_day"] == (utc["hour_of_day"] + 9) % 24).all()
    assert utc["day_of_week"][0] == 2  # 2025-01-01 was a Wednesday


def replaced_after(draws, t, replacement):
    return draws[: t + 1] + replacement


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_a_feature_at_bar_t_is_unchanged_when_bars_after_t_change(data):
    draws = data.draw(st.lists(bar_draws, min_size=2, max_size=300))
    t = data.draw(st.integers(0, len(draws) - 2))
    replacement = data.draw(st.lists(bar_draws, min_size=len(draws) - t - 1, max_size=len(draws) - t - 1))
    offsets = np.array(data.draw(st.lists(st.sampled_from(OFFSETS.tolist()), min_size=len(draws),
                                          max_size=len(draws))), dtype=np.int64)
    other_offsets = offsets.copy()
    other_offsets[t + 1:] = OFFSETS[0]
    original = FEATURES_V1.compute(columns_from_draws(draws, 100.0), offsets)
    changed = FEATURES_V1.compute(columns_from_draws(replaced_after(draws, t, replacement), 100.0), other_offsets)
    for name in FEATURES_V1.names:
        np.testing.assert_array_equal(changed[name][: t + 1], original[name][: t + 1], err_msg=name)


@settings(max_examples=40, deadline=None)
@given(draws=st.lists(bar_draws, min_size=1, max_size=300), level=st.sampled_from([100.0, 0.00042, 65_000.0]))
def test_values_are_finite_or_nan_even_for_flat_bars_and_zero_volume(draws, level):
    columns = columns_from_draws(draws, level)
    for name, values in FEATURES_V1.compute(columns, np.zeros(len(columns), dtype=np.int64)).items():
        assert values.dtype == np.float64 and len(values) == len(columns), name
        assert not np.isinf(values).any(), name


def _lookback_groups():
    groups = {}
    for feature in FEATURES_V1.features:
        groups.setdefault(feature.warmup, []).append(feature.name)
    return groups


@pytest.mark.parametrize(("needed", "names"), list(_lookback_groups().items()), ids=str)
def test_each_feature_needs_no_more_history_than_its_declared_lookback(needed: Warmup, names):
    columns = random_columns(44, 2_500, volatility=0.02)
    offsets = offsets_for(columns)
    full = FEATURES_V1.compute(columns, offsets)
    for t in (1_000, 1_731, 2_499):
        start = history_start(needed, columns.session_id, t)
        start = max(start - 1, 0) if needed.to_session_start else start
        window = FEATURES_V1.compute(columns.tail(start), offsets[start:])
        got = {name: window[name][t - start:t - start + 1] for name in names}
        want = {name: full[name][t:t + 1] for name in names}
        assert_columns_close(got, want, rtol=TOLERANCE, floor=1.0)
