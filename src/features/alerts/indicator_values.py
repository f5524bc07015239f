"""The indicator values bar rules need at a closed bar: the indicators' own batch computation (the
domain's `compute`, as the indicators slice uses it) over the stored bars up to that bar, with the warm-up
each indicator asks for. Alert specs (`rsi:14`, `bb:20:2`) are indicator specs; their output names
(`rsi_14`, `bb_upper_20_2`) are the indicators' column names."""

import math
from collections.abc import Iterable

import numpy as np

from src.common.ports import OHLCVRepository
from src.domain.indicators import Columns, compute, parse_spec, warmup
from src.domain.market_data import OHLCVBar, SeriesKey

MAX_HISTORY_BARS = 5_000


async def indicator_values(bars: OHLCVRepository, key: SeriesKey, bar: OHLCVBar,
                           specs: Iterable[str]) -> dict[str, float]:
    """Each output of `specs` at `bar` (NaN where not available yet: too little history)."""
    parsed = tuple(spec for text in specs for spec in parse_spec(text))
    if not parsed:
        return {}
    needed = min(warmup(parsed).bars + 1, MAX_HISTORY_BARS)
    stored = await bars.read(key, end=bar.time, limit=needed)
    time, open_, high, low, close, volume = (stored.time, stored.open, stored.high, stored.low, stored.close,
                                             stored.volume)
    if not len(time) or int(time[-1]) != bar.time:  # not stored (yet): the bar as it was published
        keep = time < bar.time
        time, open_, high, low, close, volume = (
            np.append(column[keep], value) for column, value in
            ((time, bar.time), (open_, bar.open), (high, bar.high), (low, bar.low), (close, bar.close),
             (volume, bar.volume)))
    columns = Columns(time, open_, high, low, close, volume, np.zeros(len(time), np.int64))
    return {name: _last(values) for name, values in compute(parsed, columns).items()}


def _last(values: np.ndarray) -> float:
    return float(values[-1]) if len(values) else math.nan
