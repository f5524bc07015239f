"""Series for the quality tests: clean bars built from a list of closes, and ways to spoil them."""

import math

import numpy as np

from src.domain.market_data import Interval, OHLCVBar
from src.domain.quality.model import CheckContext, SeriesColumns

T0 = 1_704_067_200  # 2024-01-01 00:00 UTC, a Monday
MINUTE = 60
WICK = 0.001


def smooth_closes(count: int, start: float = 100.0) -> list[float]:
    """A gentle wave: returns of about 0.1%, no two alike, far from any spike threshold."""
    return [start * (1 + 0.02 * math.sin(i / 9) + 0.003 * math.sin(i * 1.7)) for i in range(count)]


def columns_from_closes(
    closes: list[float], *, start: int = T0, step: int = MINUTE, volume: float = 5.0, times: list[int] | None = None
) -> SeriesColumns:
    """Bars opening at the previous close, with a small wick either side; sane and aligned."""
    opens = [closes[0], *closes[:-1]]
    highs = [max(o, c) * (1 + WICK) for o, c in zip(opens, closes, strict=True)]
    lows = [min(o, c) * (1 - WICK) for o, c in zip(opens, closes, strict=True)]
    times = times if times is not None else [start + step * i for i in range(len(closes))]
    return SeriesColumns.of(times, opens, highs, lows, closes, [volume] * len(closes))


def with_values(columns: SeriesColumns, position: int, **changes: float) -> SeriesColumns:
    """A copy with some values of one bar replaced (`open=`, `high=`, `low=`, `close=`, `volume=`)."""
    copies = {name: column.copy() for name, column in zip(
        ("open", "high", "low", "close", "volume"), columns.price_columns, strict=True)}
    for name, value in changes.items():
        copies[name][position] = value
    return SeriesColumns(columns.time.copy(), **copies)


def without(columns: SeriesColumns, positions: list[int]) -> SeriesColumns:
    keep = np.ones(len(columns), dtype=bool)
    keep[positions] = False
    return columns.take(keep)


def concat(first: SeriesColumns, second: SeriesColumns) -> SeriesColumns:
    pairs = zip((first.time, *first.price_columns), (second.time, *second.price_columns), strict=True)
    return SeriesColumns(*(np.concatenate(pair) for pair in pairs))


def grid(columns: SeriesColumns, step: int = MINUTE) -> np.ndarray:
    return np.arange(int(columns.time[0]), int(columns.time[-1]) + 1, step, dtype=np.int64)


def context(columns: SeriesColumns, **overrides: object) -> CheckContext:
    """Checked one minute after the last bar opened, a 24x7 1m calendar, market open."""
    values: dict[str, object] = {"interval_seconds": MINUTE, **overrides}
    if "now" not in values:
        values["now"] = int(columns.time[-1]) + MINUTE
    return CheckContext(**values)  # type: ignore[arg-type]


def bars_of(columns: SeriesColumns, interval: Interval = Interval.M1) -> list[OHLCVBar]:
    rows = zip(columns.time.tolist(), *(column.tolist() for column in columns.price_columns), strict=True)
    return [OHLCVBar(interval, t, o, h, lo, c, v) for t, o, h, lo, c, v in rows]
