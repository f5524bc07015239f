"""How much history before a bar an indicator needs for its value at that bar to equal the full-series value.

The rule:

* **Windowed indicators** (SMA, Bollinger, Stochastic, volume SMA) depend on a fixed window: their warm-up
  is TA-Lib's lookback (the index of the first value), e.g. `period - 1` for an SMA. A computation that
  starts `warmup` bars before bar t gives exactly the full-series value at t (up to the rounding of a
  running sum).
* **Exponentially smoothed indicators** (EMA, MACD, RSI, ATR, ADX) depend on all history through their seed
  (TA-Lib's "unstable period"): the seed's influence decays by a factor `keep` per bar (EMA:
  (n - 1) / (n + 1); Wilder: (n - 1) / n). Their warm-up is TA-Lib's lookback plus, for each smoothing
  stage applied in sequence, the bars after which `keep ** bars <= CONVERGENCE`. A computation started
  `warmup` bars before t then agrees with the full-series value at t to about CONVERGENCE times the
  seed's initial error (at most the range of the inputs): the tests assert a relative difference below
  `TOLERANCE` (100 x margin for that error).
* **Session-anchored indicators** (VWAP) need no bars before their session's first bar and every bar since:
  their warm-up is 0 bars plus "back to the session start" (`Warmup.to_session_start`).
"""

import math
from dataclasses import dataclass

CONVERGENCE = 1e-10
TOLERANCE = 1e-8


@dataclass(frozen=True, slots=True)
class Warmup:
    """Bars of history needed before the first bar of interest, and whether back to its session start too."""

    bars: int
    to_session_start: bool = False

    def __or__(self, other: "Warmup") -> "Warmup":
        """The history that satisfies both."""
        return Warmup(max(self.bars, other.bars), self.to_session_start or other.to_session_start)


def ema_keep(period: int) -> float:
    return (period - 1) / (period + 1)


def wilder_keep(period: int) -> float:
    return (period - 1) / period


def convergence_bars(keep: float) -> int:
    """Bars after which a seed's weight `keep ** bars` is at most CONVERGENCE."""
    return 0 if keep <= 0.0 else math.ceil(math.log(CONVERGENCE) / math.log(keep))
