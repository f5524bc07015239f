"""Indicators of one series kept current bar by bar: `IndicatorState.update(bar)` in constant work per bar.

Built from history by replaying, through the streaming indicators, the bars the specs' warm-up needs before
the last bar (see `warmup`): the state then holds the full-series values within the warm-up tolerance
(exactly, when the history is shorter than the warm-up, since the replay then starts at the first bar).
States advance only on closed bars; a revised bar is not taken back.
"""

import math
from collections.abc import Iterable

from src.domain.indicators.columns import BarPoint, Columns
from src.domain.indicators.compute import history_start, warmup
from src.domain.indicators.spec import IndicatorSpec
from src.domain.indicators.streaming import StreamingIndicator


class IndicatorState:
    __slots__ = ("_latest", "_streams", "specs")

    def __init__(self, specs: Iterable[IndicatorSpec]) -> None:
        self.specs = tuple(specs)
        self._streams: list[tuple[tuple[str, ...], StreamingIndicator]] = [
            (spec.columns, spec.definition.stream(spec.params)) for spec in self.specs
        ]
        self._latest = {column: math.nan for spec in self.specs for column in spec.columns}

    @classmethod
    def from_history(cls, specs: Iterable[IndicatorSpec], columns: Columns) -> "IndicatorState":
        state = cls(specs)
        last = len(columns) - 1
        for bar in columns.tail(history_start(warmup(state.specs), columns.session_id, max(last, 0))).rows():
            state.update(bar)
        return state

    def update(self, bar: BarPoint) -> dict[str, float]:
        """Advance by one closed bar; the latest value of every output column (NaN while not yet)."""
        latest: dict[str, float] = {}
        for columns, stream in self._streams:
            latest.update(zip(columns, stream.update(bar), strict=True))
        self._latest = latest
        return dict(latest)

    @property
    def latest(self) -> dict[str, float]:
        return dict(self._latest)
