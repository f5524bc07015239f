"""Indicator and feature computation on numpy columns (compute only: the store read is measured elsewhere).

`indicators_default_compute_100k_ms`: every default indicator (RSI, MACD, BB, SMA 20/50/100/200,
EMA 12/26/50, VWAP, Stoch, ATR, ADX, volume SMA) over 100,000 bars; median of 9 rounds.
`features_v1_compute_100k_ms`: feature set v1 (80 features) over the same bars; median of 7 rounds.
`indicator_live_update_us`: one closed bar through an `IndicatorState` of all default indicators seeded from
history; per bar, median of 7 rounds of 500 bars.
`features_v1_live_update_ms`: one closed bar through a `FeatureState` (v1 recomputed on its bounded tail);
median of 60 bars.
"""

import statistics
import time
from collections.abc import Callable

import numpy as np

from src.domain.features import FEATURES_V1, FeatureState
from src.domain.indicators import DEFAULT_INDICATORS, BarPoint, Columns, IndicatorState, compute

BARS = 100_000
SESSION_BARS = 390  # one-minute bars of a 6.5-hour session


def make_columns(count: int = BARS, seed: int = 16) -> Columns:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.001, count)))
    open_ = np.concatenate(([100.0], close[:-1]))
    high = np.maximum(open_, close) * (1 + rng.exponential(0.0005, count))
    low = np.minimum(open_, close) * (1 - rng.exponential(0.0005, count))
    volume = rng.lognormal(8.0, 1.0, count)
    time_ = 1_735_689_600 + 60 * np.arange(count, dtype=np.int64)
    return Columns(time_, open_, high, low, close, volume, np.arange(count, dtype=np.int64) // SESSION_BARS)


def _median_seconds(action: Callable[[], object], rounds: int) -> float:
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def _head(columns: Columns, stop: int) -> Columns:
    return Columns(*(getattr(columns, name)[:stop] for name in Columns.__dataclass_fields__))


def _live_update_us(columns: Columns, bars: list[BarPoint], rounds: int = 7, per_round: int = 500) -> float:
    state = IndicatorState.from_history(DEFAULT_INDICATORS, _head(columns, len(columns) - len(bars)))
    update = state.update
    timings = []
    for index in range(rounds):
        chunk = bars[index * per_round:(index + 1) * per_round]
        started = time.perf_counter()
        for bar in chunk:
            update(bar)
        timings.append((time.perf_counter() - started) / len(chunk))
    return statistics.median(timings) * 1e6


def _features_live_update_ms(columns: Columns, bars: list[BarPoint], count: int = 60) -> float:
    seeded = len(columns) - len(bars)
    state = FeatureState.from_history(FEATURES_V1, _head(columns, seeded), np.zeros(seeded, dtype=np.int64))
    timings = []
    for bar in bars[:count]:
        started = time.perf_counter()
        state.update(bar, 0)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1e3


def run() -> dict[str, float]:
    columns = make_columns()
    offsets = np.zeros(BARS, dtype=np.int64)
    compute(DEFAULT_INDICATORS, columns)  # warm caches and lazy imports
    live_bars = list(columns.tail(BARS - 3_500).rows())
    indicators_seconds = _median_seconds(lambda: compute(DEFAULT_INDICATORS, columns), 9)
    features_seconds = _median_seconds(lambda: FEATURES_V1.compute(columns, offsets), 7)
    return {
        "indicators_default_compute_100k_ms": round(indicators_seconds * 1e3, 2),
        "features_v1_compute_100k_ms": round(features_seconds * 1e3, 2),
        "indicator_live_update_us": round(_live_update_us(columns, live_bars), 2),
        "features_v1_live_update_ms": round(_features_live_update_ms(columns, live_bars), 2),
    }


if __name__ == "__main__":
    print(run())
