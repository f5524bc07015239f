"""The bars indicators and features are computed from: numpy columns for batches, one `BarPoint` per live bar.

`session_id` is an integer per bar naming the trading session it belongs to (any numbering: only a change
from one bar to the next matters); session-anchored values (VWAP, session features) restart where it changes.
"""

from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from src.domain.errors import InvalidSeries
from src.domain.market_data.bar import OHLCVBar

type FloatArray = npt.NDArray[np.float64]
type IntArray = npt.NDArray[np.int64]


class BarPoint(NamedTuple):
    """One closed bar as plain numbers, the unit of incremental updates."""

    time: int  # open time, epoch seconds UTC
    open: float
    high: float
    low: float
    close: float
    volume: float
    session_id: int

    @classmethod
    def of(cls, bar: OHLCVBar, session_id: int) -> "BarPoint":
        return cls(bar.time, bar.open, bar.high, bar.low, bar.close, bar.volume, session_id)


_DTYPES = {"time": np.int64, "session_id": np.int64}


@dataclass(frozen=True, slots=True, eq=False)
class Columns:
    """Bars as aligned 1-D arrays (oldest first); converted to contiguous int64/float64 on construction."""

    time: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    session_id: IntArray

    def __post_init__(self) -> None:
        for field in fields(self):
            array = np.ascontiguousarray(getattr(self, field.name), dtype=_DTYPES.get(field.name, np.float64))
            if array.ndim != 1 or len(array) != len(self.time):
                raise InvalidSeries(f"column {field.name} must be 1-D and as long as time", field=field.name)
            object.__setattr__(self, field.name, array)

    def __len__(self) -> int:
        return len(self.time)

    def tail(self, start: int) -> "Columns":
        """The bars from index `start` on (views, no copy)."""
        return Columns(**{field.name: getattr(self, field.name)[start:] for field in fields(self)})

    def rows(self) -> Iterator[BarPoint]:
        lists: list[list[Any]] = [getattr(self, field.name).tolist() for field in fields(self)]
        return (BarPoint(*row) for row in zip(*lists, strict=True))

    def append(self, bar: BarPoint) -> "Columns":
        """A copy with `bar` added at the end."""
        appended = (np.append(getattr(self, field.name), value) for field, value in zip(fields(self), bar, strict=True))
        return Columns(*appended)


def session_starts(session_id: IntArray) -> npt.NDArray[np.bool_]:
    """True at the first bar of each session (and at the first bar)."""
    starts = np.empty(len(session_id), dtype=np.bool_)
    starts[:1] = True
    np.not_equal(session_id[1:], session_id[:-1], out=starts[1:])
    return starts


def session_start_index(session_id: IntArray) -> IntArray:
    """For each bar, the index of the first bar of its session."""
    index = np.where(session_starts(session_id), np.arange(len(session_id), dtype=np.int64), 0)
    return np.maximum.accumulate(index) if len(index) else index
