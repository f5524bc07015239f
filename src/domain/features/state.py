"""The latest feature vector of a live series, kept current as bars close.

Approach: the state keeps a bounded tail of the series (the feature set's lookback, plus the current
session and the bar before it for session-anchored features) and, on each closed bar, computes the set on
that tail and keeps its last row. The work per bar is bounded by the tail's length, not by the series', and
the row equals the batch row of the full series within the warm-up tolerance (`FeatureSet` lookback rule).
"""

import math

import numpy as np

from src.domain.features.feature_set import FeatureSet
from src.domain.indicators.columns import BarPoint, Columns, IntArray


class FeatureState:
    __slots__ = ("_latest", "_tail", "_utc_offset", "feature_set")

    def __init__(self, feature_set: FeatureSet, columns: Columns, utc_offset: IntArray) -> None:
        self.feature_set = feature_set
        self._tail = columns
        self._utc_offset = np.ascontiguousarray(utc_offset, dtype=np.int64)
        self._latest = dict.fromkeys(feature_set.names, math.nan)
        if len(columns):
            self._recompute()

    @classmethod
    def from_history(cls, feature_set: FeatureSet, columns: Columns, utc_offset: IntArray) -> "FeatureState":
        start = feature_set.history_start(columns.session_id, max(len(columns) - 1, 0))
        return cls(feature_set, columns.tail(start), np.asarray(utc_offset)[start:])

    def update(self, bar: BarPoint, utc_offset: int) -> dict[str, float]:
        """Advance by one closed bar (its UTC offset given); the features of that bar."""
        self._tail = self._tail.append(bar)
        self._utc_offset = np.append(self._utc_offset, utc_offset)
        self._recompute()
        return dict(self._latest)

    @property
    def latest(self) -> dict[str, float]:
        return dict(self._latest)

    @property
    def tail_bars(self) -> int:
        """How many bars the state keeps (bounded by the set's lookback and the current session)."""
        return len(self._tail)

    def _recompute(self) -> None:
        start = self.feature_set.history_start(self._tail.session_id, len(self._tail) - 1)
        self._tail, self._utc_offset = self._tail.tail(start), self._utc_offset[start:]
        values = self.feature_set.compute(self._tail, self._utc_offset)
        self._latest = {name: float(column[-1]) for name, column in values.items()}
