"""Latest features of a live series: each closed bar gives the batch row of the full series."""

import math

import numpy as np
import pytest

from src.domain.features import FEATURES_V1, FeatureState
from src.domain.indicators.warmup import TOLERANCE
from tests.unit.indicators.series import assert_columns_close, random_columns
from tests.unit.indicators.test_state import head

from .test_feature_set import offsets_for


def streamed(columns, offsets, seeded_with):
    state = FeatureState.from_history(FEATURES_V1, head(columns, seeded_with), offsets[:seeded_with])
    rows = [state.update(bar, int(offset)) for bar, offset in zip(columns.tail(seeded_with).rows(),
                                                                  offsets[seeded_with:], strict=True)]
    return {name: np.array([row[name] for row in rows]) for name in FEATURES_V1.names}


def batch_from(columns, offsets, first):
    return {name: values[first:] for name, values in FEATURES_V1.compute(columns, offsets).items()}


def test_bars_fed_from_the_first_bar_give_the_batch_rows():
    columns = random_columns(51, 260)
    offsets = offsets_for(columns)
    assert_columns_close(streamed(columns, offsets, 0), batch_from(columns, offsets, 0), rtol=1e-12, floor=1.0)


@pytest.mark.parametrize("seed", [52, 53])
def test_a_state_seeded_from_a_long_history_gives_the_full_series_rows(seed):
    columns = random_columns(seed, 3_000, volatility=0.02)
    offsets = offsets_for(columns)
    assert_columns_close(streamed(columns, offsets, 2_940), batch_from(columns, offsets, 2_940),
                         rtol=TOLERANCE, floor=1.0)


def test_the_kept_tail_is_bounded_by_the_lookback_and_the_current_session():
    columns = random_columns(54, 3_000)
    state = FeatureState.from_history(FEATURES_V1, columns, offsets_for(columns))
    session_length = int((columns.session_id == columns.session_id[-1]).sum())
    assert state.tail_bars <= max(FEATURES_V1.warmup.bars, session_length) + 2


def test_latest_is_nan_without_history_and_the_row_of_the_last_bar_after_it():
    empty = head(random_columns(55, 1), 0)
    assert all(math.isnan(value) for value in FeatureState(FEATURES_V1, empty, np.array([], np.int64)).latest.values())
    columns = random_columns(55, 400)
    offsets = offsets_for(columns)
    state = FeatureState.from_history(FEATURES_V1, columns, offsets)
    last_row = {name: values[-1:] for name, values in FEATURES_V1.compute(columns, offsets).items()}
    assert_columns_close({name: np.array([value]) for name, value in state.latest.items()}, last_row,
                         rtol=TOLERANCE, floor=1.0)
