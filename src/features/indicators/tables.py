"""Indicator and feature values of the asked bars, as one table of aligned columns ready to serialize."""

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from src.domain.features import FeatureSet
from src.domain.indicators import IndicatorSpec, compute
from src.domain.indicators.columns import IntArray
from src.domain.market_data import SeriesKey
from src.features.indicators.reading import History

BAR_COLUMNS = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True, slots=True)
class Table:
    """`columns` aligned with `time` (bar open times): the bars' own columns when asked, then the values.
    `meta` says what the values are (`{"indicators": [...]}`, `{"version": "v1"}`)."""

    key: SeriesKey
    meta: dict[str, Any]
    time: IntArray
    columns: dict[str, npt.NDArray[Any]]

    def __len__(self) -> int:
        return len(self.time)


def indicator_table(history: History, specs: Iterable[IndicatorSpec], *, with_bars: bool = False) -> Table:
    specs = tuple(specs)
    values = compute(specs, history.columns)
    meta = {"indicators": [spec.text for spec in specs]}
    return _table(history, meta, values, with_bars)


def feature_table(history: History, feature_set: FeatureSet, *, with_bars: bool = False) -> Table:
    values = feature_set.compute(history.columns, history.utc_offset)
    return _table(history, {"version": feature_set.version}, values, with_bars)


def _table(history: History, meta: dict[str, Any], values: dict[str, Any], with_bars: bool) -> Table:
    columns: dict[str, npt.NDArray[Any]] = {}
    if with_bars:
        columns.update((name, history.asked(name)) for name in BAR_COLUMNS)
        columns["partial"] = history.asked("partial") == 1
    columns.update((name, column[history.first:]) for name, column in values.items())
    return Table(history.key, meta, history.asked("time").astype(np.int64), columns)


def last_row(table: Table) -> dict[str, float | None]:
    """The values of the table's last bar, None where a value does not exist yet."""
    return {name: none_if_nan(float(column[-1])) for name, column in table.columns.items()}


def none_if_nan(value: float) -> float | None:
    return None if math.isnan(value) else value
