"""Random bar series for indicator and feature tests: seeded numpy walks, and a hypothesis strategy with edges
(flat stretches, bars without range, zero volume, one-bar sessions) that TA-Lib's zero thresholds care about."""

import numpy as np
from hypothesis import strategies as st

from src.domain.indicators import Columns

T0 = 1_735_689_600  # 2025-01-01 00:00 UTC


def random_columns(seed: int, count: int, level: float = 100.0, volatility: float = 0.01) -> Columns:
    """A geometric random walk with consistent OHLC, volume, and sessions of 20..120 bars."""
    rng = np.random.default_rng(seed)
    close = level * np.exp(np.cumsum(rng.normal(0.0, volatility, count)))
    open_ = np.concatenate((close[:1], close[:-1])) * np.exp(rng.normal(0.0, volatility / 4, count))
    high = np.maximum(open_, close) * (1 + rng.uniform(0.0, volatility, count))
    low = np.minimum(open_, close) * (1 - rng.uniform(0.0, volatility, count))
    volume = rng.uniform(0.0, 1000.0, count) * (rng.uniform(size=count) > 0.05)
    session_id = np.cumsum(rng.uniform(size=count) < 1 / 60)
    time = T0 + 60 * np.arange(count, dtype=np.int64)
    return Columns(time, open_, high, low, close, volume, session_id)


moves = st.one_of(st.just(0.0), st.floats(-0.05, 0.05), st.sampled_from([1e-9, -1e-9]))
wicks = st.one_of(st.just(0.0), st.floats(0.0, 0.03), st.sampled_from([1e-15, 1e-14, 3e-14, 1e-13]))
volumes = st.one_of(st.just(0.0), st.floats(0.0, 1e6))
bar_draws = st.tuples(moves, moves, wicks, wicks, volumes, st.booleans())


def columns_from_draws(draws: list[tuple[float, float, float, float, float, bool]], level: float) -> Columns:
    move, gap, up, down, volume, new_session = (np.array(values) for values in zip(*draws, strict=True))
    close = level * np.cumprod(1.0 + move)
    open_ = np.concatenate(([level], close[:-1])) * (1.0 + gap)
    high = np.maximum(open_, close) * (1.0 + up)
    low = np.minimum(open_, close) * (1.0 - down)
    time = T0 + 60 * np.arange(len(draws), dtype=np.int64)
    return Columns(time, open_, high, low, close, volume.astype(float), np.cumsum(new_session))


@st.composite
def bar_series(draw: st.DrawFn, min_size: int = 1, max_size: int = 300) -> Columns:
    draws = draw(st.lists(bar_draws, min_size=min_size, max_size=max_size))
    level = draw(st.sampled_from([100.0, 0.00042, 65_000.0]))
    return columns_from_draws(draws, level)


def assert_columns_close(
    actual: dict[str, np.ndarray], expected: dict[str, np.ndarray], rtol: float, floor: float = 0.0
) -> None:
    """Same NaN positions; elsewhere within `rtol` of each value or of the column's magnitude (at least `floor`)."""
    assert actual.keys() == expected.keys()
    for name, want in expected.items():
        got = np.asarray(actual[name])
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=f"{name}: NaN positions differ")
        scale = max(float(np.nanmax(np.abs(want), initial=0.0)), floor)
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * scale, equal_nan=True, err_msg=name)
