"""A deterministic synthetic market: one bar per minute, reproducible at any time from (seed, key).

Rules:
- Prices are integer ticks and quantities integer lots, so a coarser bar is the exact aggregate of its minutes
  (first open, max high, min low, last close, summed volume and trade count) whatever the order of summation.
- The log price at each UTC midnight is a seeded random walk from `origin_day`, pulled gently back towards
  the start price so that years of history stay in a realistic band. Inside a day the minute closes follow a
  Brownian bridge between two midnights, so any day is generated alone (random access), in ~0.1 ms.
- A minute opens at the previous minute's close; the last minute of a day closes exactly at the next midnight's
  level, so the path is continuous across days.
"""

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

MINUTES_PER_DAY = 1440
OPEN, HIGH, LOW, CLOSE, VOLUME, TRADES = range(6)
MEAN_REVERSION = 0.01  # per day, towards the start price


@dataclass
class MinutePath:
    """`day(d)` is an int64 array (1440 x 6: open, high, low, close, volume, trades) for UTC day `d`
    (days since 1970-01-01), minute 0 first."""

    seed: int
    key: str
    start_ticks: int  # price at `origin_day` midnight, in ticks
    sigma: float  # standard deviation of a minute's log return
    lots_per_minute: float  # mean volume of a minute, in lots
    trades_per_minute: float = 20.0
    origin_day: int = 0
    _levels: list[float] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._salt = zlib.crc32(f"{self.seed}:{self.key}".encode())
        self._levels = [math.log(self.start_ticks)]
        self.day = lru_cache(maxsize=512)(self._generate_day)

    def level(self, day: int) -> float:
        """Log price (in ticks) at the midnight that starts `day`."""
        index = max(0, day - self.origin_day)
        if index >= len(self._levels):
            self._extend_levels(index)
        return self._levels[index]

    def _extend_levels(self, index: int) -> None:
        count = index + 1 - len(self._levels)
        rng = np.random.default_rng([self.seed, self._salt, 0])
        shocks = rng.normal(0.0, self.sigma * math.sqrt(MINUTES_PER_DAY), index + 1)
        anchor = self._levels[0]
        level = self._levels[-1]
        for shock in shocks[len(self._levels): len(self._levels) + count]:
            level += float(shock) - MEAN_REVERSION * (level - anchor)
            self._levels.append(level)

    def _generate_day(self, day: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, self._salt, day + 1_000_000])
        start, end = self.level(day), self.level(day + 1)
        walk = np.cumsum(rng.normal(0.0, self.sigma, MINUTES_PER_DAY))
        share = np.arange(1, MINUTES_PER_DAY + 1) / MINUTES_PER_DAY
        bridge = start + walk - share * walk[-1] + share * (end - start)
        closes = np.maximum(1, np.rint(np.exp(bridge))).astype(np.int64)
        closes[-1] = max(1, round(math.exp(end)))
        opens = np.empty_like(closes)
        opens[0] = max(1, round(math.exp(start)))
        opens[1:] = closes[:-1]
        wick = np.rint(np.abs(rng.normal(0.0, self.sigma / 2, (2, MINUTES_PER_DAY))) * closes).astype(np.int64)
        rows = np.empty((MINUTES_PER_DAY, 6), dtype=np.int64)
        rows[:, OPEN], rows[:, CLOSE] = opens, closes
        rows[:, HIGH] = np.maximum(opens, closes) + wick[0]
        rows[:, LOW] = np.maximum(1, np.minimum(opens, closes) - wick[1])
        rows[:, VOLUME] = np.maximum(1, np.rint(rng.gamma(2.0, self.lots_per_minute / 2, MINUTES_PER_DAY)))
        rows[:, TRADES] = 1 + rng.poisson(self.trades_per_minute, MINUTES_PER_DAY)
        rows.setflags(write=False)
        return rows

    def minutes(self, first: int, stop: int) -> np.ndarray:
        """Rows of minutes `first` .. `stop - 1` (minutes since the epoch)."""
        return rows_between(self.day, MINUTES_PER_DAY, first, stop, 6)


def rows_between(day_rows: Callable[[int], np.ndarray], per_day: int, first: int, stop: int,
                 width: int) -> np.ndarray:
    """Rows `first` .. `stop - 1` of a sequence stored as `per_day` rows per day (`day_rows(d)`)."""
    if stop <= first:
        return np.empty((0, width), dtype=np.int64)
    first_day, last_day = first // per_day, (stop - 1) // per_day
    days = [day_rows(d) for d in range(first_day, last_day + 1)]
    rows = days[0] if len(days) == 1 else np.concatenate(days)
    offset = first - first_day * per_day
    return rows[offset: offset + stop - first]


def split_total(total: int, weights: np.ndarray) -> np.ndarray:
    """Non-negative integers proportional to `weights` that add up to `total` exactly (largest remainder)."""
    shares = total * weights / weights.sum()
    parts: np.ndarray = np.floor(shares).astype(np.int64)
    missing = int(total - parts.sum())
    if missing > 0:
        parts[np.argsort(parts - shares)[:missing]] += 1
    return parts


def aggregate(rows: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """One bar per group of consecutive rows; group i spans rows starts[i] .. starts[i+1]-1 (all non-empty).
    Columns after CLOSE are summed."""
    result = np.empty((len(starts), rows.shape[1]), dtype=np.int64)
    if not len(starts):
        return result
    ends = np.append(starts[1:], len(rows)) - 1
    result[:, OPEN] = rows[starts, OPEN]
    result[:, HIGH] = np.maximum.reduceat(rows[:, HIGH], starts)
    result[:, LOW] = np.minimum.reduceat(rows[:, LOW], starts)
    result[:, CLOSE] = rows[ends, CLOSE]
    result[:, VOLUME:] = np.add.reduceat(rows[:, VOLUME:], starts, axis=0)
    return result
