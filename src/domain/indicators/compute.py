"""Batch computation of indicator specs over columns, and the history a window needs before its first bar."""

from collections.abc import Iterable

import numpy as np

from src.domain.indicators.columns import Columns, FloatArray, IntArray
from src.domain.indicators.spec import IndicatorSpec
from src.domain.indicators.warmup import Warmup


def compute(specs: Iterable[IndicatorSpec], columns: Columns) -> dict[str, FloatArray]:
    """Output column name -> float64 array aligned with the bars, NaN where the value does not exist yet."""
    result: dict[str, FloatArray] = {}
    for spec in specs:
        outputs = spec.definition.compute(columns, spec.params)
        result.update(zip(spec.columns, outputs, strict=True))
    return result


def warmup(specs: Iterable[IndicatorSpec]) -> Warmup:
    """The history that every spec's values at the first requested bar need (see `warmup` module)."""
    needed = Warmup(0)
    for spec in specs:
        needed |= spec.warmup
    return needed


def history_start(needed: Warmup, session_id: IntArray, first: int) -> int:
    """Index of the first bar to compute from so that values from index `first` on are the full-series ones."""
    start = max(first - needed.bars, 0)
    if needed.to_session_start and first < len(session_id):
        earlier_sessions = np.flatnonzero(session_id[: first + 1] != session_id[first])
        start = min(start, int(earlier_sessions[-1]) + 1 if len(earlier_sessions) else 0)
    return start
