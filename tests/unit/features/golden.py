"""Golden files pinning feature sets: the inputs and every feature value of a version, written once.

`python -m tests.unit.features.golden v2` writes tests/unit/features/golden/features_v2.npz for a new
version; it refuses to overwrite an existing file, since a published version never changes.
"""

import calendar
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from src.domain.features import feature_set
from src.domain.indicators import Columns

GOLDEN = Path(__file__).parent / "golden"
INPUT_FIELDS = ("time", "open", "high", "low", "close", "volume", "session_id", "utc_offset")
BARS, BARS_PER_SESSION, BAR_SECONDS = 300, 26, 900  # 15-minute bars, 6.5-hour sessions
DST_END = calendar.timegm((2024, 11, 3, 6, 0, 0))


def golden_path(version: str) -> Path:
    return GOLDEN / f"features_{version}.npz"


def _weekday_midnights(count: int) -> list[int]:
    midnights, day = [], calendar.timegm((2024, 10, 21, 0, 0, 0))  # a Monday
    while len(midnights) < count:
        if datetime.fromtimestamp(day, UTC).weekday() < 5:
            midnights.append(day)
        day += 86_400
    return midnights


def make_inputs(seed: int = 20_241_021) -> dict[str, np.ndarray]:
    """US-equity-like 15-minute bars on weekdays from 2024-10-21, across the end of daylight saving time."""
    rng = np.random.default_rng(seed)
    time, utc_offset = [], []
    for midnight in _weekday_midnights(-(-BARS // BARS_PER_SESSION)):
        offset = -4 * 3600 if midnight < DST_END else -5 * 3600
        open_time = midnight + 9 * 3600 + 1800 - offset  # 09:30 local
        time += [open_time + BAR_SECONDS * i for i in range(BARS_PER_SESSION)]
        utc_offset += [offset] * BARS_PER_SESSION
    close = 187.0 * np.exp(np.cumsum(rng.normal(0.0, 0.004, BARS)))
    open_ = np.concatenate(([187.0], close[:-1])) * np.exp(rng.normal(0.0, 0.001, BARS))
    high = np.maximum(open_, close) * (1 + rng.exponential(0.002, BARS))
    low = np.minimum(open_, close) * (1 - rng.exponential(0.002, BARS))
    volume = np.round(rng.lognormal(9.0, 1.0, BARS)) * (rng.uniform(size=BARS) > 0.03)
    return {
        "time": np.array(time[:BARS], dtype=np.int64), "open": open_, "high": high, "low": low, "close": close,
        "volume": volume, "session_id": np.arange(BARS, dtype=np.int64) // BARS_PER_SESSION,
        "utc_offset": np.array(utc_offset[:BARS], dtype=np.int64),
    }


def columns_of(inputs: dict[str, np.ndarray]) -> Columns:
    return Columns(*(inputs[name] for name in INPUT_FIELDS[:-1]))


def write_golden(version: str) -> Path:
    path = golden_path(version)
    if path.exists():
        raise SystemExit(f"{path} exists: a published feature set never changes; add a new version instead")
    inputs = make_inputs()
    values = feature_set(version).compute(columns_of(inputs), inputs["utc_offset"])
    names = np.array(list(values))
    np.savez_compressed(path, names=names, **{f"input_{k}": v for k, v in inputs.items()},
                        **{f"feature_{k}": v for k, v in values.items()})
    return path


if __name__ == "__main__":
    print(write_golden(sys.argv[1]))
