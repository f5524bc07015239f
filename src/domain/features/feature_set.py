"""Versioned, declarative feature sets: each feature a name, a description, a vectorised function of the
bars and how much history it needs.

Rules:

* **No look-ahead.** A feature's value at bar t is computed from bars <= t only.
* **Finite or NaN.** Values that do not exist (not enough history, division by zero, log of a
  non-positive price) are NaN, never +-inf and never 0.
* **A version never changes.** Once published, a set's names, order and values are pinned by a golden
  test; a change to a feature, or a new one, is a new version.
* **Lookback.** `lookback` is the number of bars before t a feature's value at t needs to equal the
  full-series value (within the indicators' warm-up tolerance, see `indicators.warmup`); a
  session-anchored feature also needs every bar of t's session and the bar before it.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from src.domain.errors import UnknownFeatureSet
from src.domain.features.inputs import FeatureInputs
from src.domain.indicators.columns import Columns, FloatArray, IntArray
from src.domain.indicators.compute import history_start
from src.domain.indicators.spec import IndicatorSpec
from src.domain.indicators.warmup import Warmup


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    name: str
    description: str
    compute: Callable[[FeatureInputs], FloatArray]
    lookback: int
    session_anchored: bool = False

    @property
    def warmup(self) -> Warmup:
        return Warmup(self.lookback, self.session_anchored)


@dataclass(frozen=True, slots=True)
class FeatureSet:
    version: str
    description: str
    features: tuple[FeatureSpec, ...]
    indicators: tuple[IndicatorSpec, ...]  # computed once per batch, read by the features

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(feature.name for feature in self.features)

    @property
    def warmup(self) -> Warmup:
        needed = Warmup(0)
        for feature in self.features:
            needed |= feature.warmup
        return needed

    def compute(self, columns: Columns, utc_offset: IntArray) -> dict[str, FloatArray]:
        """Feature name -> float64 array aligned with the bars, in the set's order."""
        inputs = FeatureInputs(columns, utc_offset, self.indicators)
        with np.errstate(all="ignore"):
            return {feature.name: _finite(feature.compute(inputs)) for feature in self.features}

    def history_start(self, session_id: IntArray, first: int) -> int:
        """Index of the first bar to compute from so that features from index `first` on are full-series ones."""
        needed = self.warmup
        start = history_start(needed, session_id, first)
        return max(start - 1, 0) if needed.to_session_start else start  # the bar before the session: its gap


def _finite(values: FloatArray) -> FloatArray:
    values = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(values), values, np.nan)


def feature_set(version: str, sets: dict[str, FeatureSet]) -> FeatureSet:
    found = sets.get(version)
    if found is None:
        known = ", ".join(sorted(sets))
        raise UnknownFeatureSet(f"unknown feature set version {version!r}; known: {known}", field="version")
    return found
