"""Golden values pin every published feature set: names, order and every value on fixed inputs."""

import numpy as np
import pytest

from src.domain.features import FEATURE_SETS

from .golden import INPUT_FIELDS, columns_of, golden_path

NEW_VERSION = "a change to {version} is a new version: add the feature set under a new version instead"


@pytest.mark.parametrize("version", sorted(FEATURE_SETS))
def test_a_published_feature_set_computes_its_golden_values(version):
    path = golden_path(version)
    assert path.exists(), f"no golden file for {version}: run `python -m tests.unit.features.golden {version}`"
    golden = np.load(path)
    inputs = {name: golden[f"input_{name}"] for name in INPUT_FIELDS}
    values = FEATURE_SETS[version].compute(columns_of(inputs), inputs["utc_offset"])
    message = NEW_VERSION.format(version=version)
    assert list(values) == golden["names"].tolist(), f"feature names or order changed; {message}"
    for name, computed in values.items():
        np.testing.assert_allclose(
            computed, golden[f"feature_{name}"], rtol=1e-12, atol=1e-15, equal_nan=True,
            err_msg=f"feature {name} changed; {message}",
        )


def test_the_golden_inputs_exercise_sessions_and_a_utc_offset_change():
    golden = np.load(golden_path("v1"))
    assert len(np.unique(golden["input_session_id"])) > 10
    assert len(np.unique(golden["input_utc_offset"])) == 2
    assert (golden["input_volume"] == 0).any()
    assert not np.isnan(np.stack([golden[f"feature_{name}"][-1] for name in golden["names"]])).any()
