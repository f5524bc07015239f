"""Versioned ML feature sets computed from bar columns, in batch and for the latest bar of a live series."""

from src.domain.features.feature_set import FeatureSet, FeatureSpec
from src.domain.features.feature_set import feature_set as _lookup
from src.domain.features.inputs import FeatureInputs
from src.domain.features.state import FeatureState
from src.domain.features.v1 import FEATURES_V1

FEATURE_SETS: dict[str, FeatureSet] = {FEATURES_V1.version: FEATURES_V1}


def feature_set(version: str) -> FeatureSet:
    """The feature set of that version; `UnknownFeatureSet` (field "version") when there is none."""
    return _lookup(version, FEATURE_SETS)


__all__ = ["FEATURES_V1", "FEATURE_SETS", "FeatureInputs", "FeatureSet", "FeatureSpec", "FeatureState", "feature_set"]
