"""Resampling against pandas: every interval built from 1m bars of a 24x7 symbol (UTC grid) and of a NASDAQ
symbol (2024 sessions with holidays, half days and both DST changes), plus the other source intervals the
rules allow. pandas groups by its own bins (epoch-anchored, or local wall clock for the sessions); our
code by the session calendar. Source bars have random gaps and partial flags."""

import calendar

import numpy as np
import pandas as pd
import pytest

from src.domain.errors import InvalidInterval
from src.domain.market_data import Interval, SeriesKey, SessionCalendar, Symbol
from src.domain.market_data.columns import BarColumns
from src.domain.market_data.resample import can_resample, finer_sources, resample
from src.infrastructure.timezones import time_zone_rules
from tests.unit.domain.test_calendar_pandas import HALF_DAYS, HOLIDAYS

NASDAQ = SessionCalendar.from_tradingview(
    time_zone_rules("America/New_York", 2023, 2025), "0930-1600", ",".join(d.replace("-", "") for d in HOLIDAYS),
    "0930-1300:" + ",".join(d.replace("-", "") for d in HALF_DAYS),
)
UTC = SessionCalendar.always_open()
AGG = {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum", "partial": "any"}
FREQ = {Interval.M3: "3min", Interval.M5: "5min", Interval.M15: "15min", Interval.M30: "30min",
        Interval.M45: "45min", Interval.H1: "1h", Interval.H2: "2h", Interval.H3: "3h", Interval.H4: "4h",
        Interval.D1: "1D", Interval.W1: "W-MON", Interval.MN1: "MS"}


def random_bars(key: SeriesKey, times: np.ndarray, seed: int) -> BarColumns:
    rng = np.random.default_rng(seed)
    times = times[rng.random(times.size) > 0.1]  # gaps: sources omit minutes without trades
    close = np.round(100 + rng.standard_normal(times.size).cumsum(), 2)
    open_ = np.round(close + rng.standard_normal(times.size) * 0.3, 2)
    high = np.maximum(open_, close) + np.round(rng.random(times.size), 2)
    low = np.minimum(open_, close) - np.round(rng.random(times.size), 2)
    volume = np.round(rng.exponential(5, times.size), 3)
    return BarColumns.of(key, times, open_, high, low, close, volume, rng.random(times.size) < 0.02).check()


def frame(bars: BarColumns) -> pd.DataFrame:
    index = pd.to_datetime(bars.time, unit="s", utc=True)
    return pd.DataFrame({name: getattr(bars, name) for name in AGG}, index=index)


def assert_equal(got: BarColumns, expected: pd.DataFrame) -> None:
    expected_times = expected.index.tz_convert("UTC").as_unit("s").asi8
    np.testing.assert_array_equal(got.time, expected_times)
    for name in ("open", "high", "low", "close", "partial"):
        np.testing.assert_array_equal(getattr(got, name), expected[name].to_numpy(), err_msg=name)
    np.testing.assert_allclose(got.volume, expected["volume"].to_numpy(), rtol=1e-12, atol=1e-9)


def series(interval: Interval, symbol: str = "BTCUSDT") -> SeriesKey:
    return SeriesKey(Symbol("BINANCE", symbol), interval, "tradingview")


@pytest.fixture(scope="module")
def minutes_24x7() -> BarColumns:
    start = calendar.timegm((2024, 1, 29, 0, 0, 0))  # 75 days across a month end
    return random_bars(series(Interval.M1), start + 60 * np.arange(75 * 1440, dtype=np.int64), seed=1)


@pytest.fixture(scope="module")
def minutes_nasdaq() -> BarColumns:
    year = (calendar.timegm((2024, 1, 1, 0, 0, 0)), calendar.timegm((2024, 12, 31, 23, 59, 0)))
    return random_bars(series(Interval.M1, "AAPL"), NASDAQ.bar_times(Interval.M1, *year), seed=2)


def pandas_24x7(bars: BarColumns, target: Interval) -> pd.DataFrame:
    anchor = {"origin": "epoch"} if target.is_intraday else {}
    grouped = frame(bars).resample(FREQ[target], label="left", closed="left", **anchor)
    return grouped.agg(AGG)[grouped["open"].count() > 0]


def pandas_sessions(bars: BarColumns, target: Interval) -> pd.DataFrame:
    """Bins of local New York wall time: intraday anchored at 09:30 each day (every interval divides 24 h),
    days by local date, weeks and months by the trading days in them, labelled by their first day's open."""
    local = frame(bars).tz_convert("America/New_York").tz_localize(None)
    if target.is_intraday:
        grouped = local.resample(FREQ[target], origin="start_day", offset="9h30min", label="left", closed="left")
        result = grouped.agg(AGG)[grouped["open"].count() > 0]
    else:
        period = {Interval.D1: "D", Interval.W1: "W-SUN", Interval.MN1: "M"}[target]
        keys = local.index.to_period(period)
        result = local.groupby(keys).agg(AGG)
        first_day = pd.Series(local.index.normalize(), index=keys).groupby(level=0).min()
        opens = first_day.to_numpy().astype("datetime64[s]") + np.timedelta64(9 * 3600 + 30 * 60, "s")
        result.index = pd.DatetimeIndex(opens)
    return result.set_axis(result.index.tz_localize("America/New_York"))


@pytest.mark.parametrize("target", [i for i in Interval if i is not Interval.M1], ids=str)
def test_every_interval_from_1m_of_a_24x7_symbol_equals_pandas(minutes_24x7, target):
    got = resample(minutes_24x7, target, UTC)
    assert got.key == series(target) and len(got) > 1
    assert_equal(got, pandas_24x7(minutes_24x7, target))


@pytest.mark.parametrize("target", [i for i in Interval if i is not Interval.M1], ids=str)
def test_every_interval_from_1m_of_a_session_symbol_equals_pandas(minutes_nasdaq, target):
    got = resample(minutes_nasdaq, target, NASDAQ)
    assert len(got) > 1
    assert_equal(got, pandas_sessions(minutes_nasdaq, target))


@pytest.mark.parametrize(("source", "target"), [(Interval.M15, Interval.M45), (Interval.M5, Interval.H4),
                                                (Interval.H1, Interval.D1), (Interval.D1, Interval.W1),
                                                (Interval.D1, Interval.MN1)], ids=str)
def test_coarser_sources_give_what_1m_gives(minutes_nasdaq, minutes_24x7, source, target):
    for bars, cal in ((minutes_nasdaq, NASDAQ), (minutes_24x7, UTC)):
        intermediate = resample(bars, source, cal)
        direct = resample(bars, target, cal)
        via = resample(intermediate, target, cal)
        for name in ("time", "open", "high", "low", "close", "partial"):
            np.testing.assert_array_equal(getattr(via, name), getattr(direct, name), err_msg=name)
        np.testing.assert_allclose(via.volume, direct.volume, rtol=1e-12)


def test_what_can_be_built_from_what():
    assert can_resample(Interval.M15, Interval.M45) and not can_resample(Interval.M30, Interval.M45)
    assert can_resample(Interval.M45, Interval.D1) and can_resample(Interval.D1, Interval.MN1)
    assert not can_resample(Interval.W1, Interval.MN1) and not can_resample(Interval.H1, Interval.M30)
    assert finer_sources(Interval.H1) == [Interval.M30, Interval.M15, Interval.M5, Interval.M3, Interval.M1]
    assert finer_sources(Interval.M1) == []
    with pytest.raises(InvalidInterval):
        resample(BarColumns.empty(series(Interval.W1)), Interval.MN1, UTC)


def test_source_bars_outside_the_sessions_are_dropped():
    saturday_noon = calendar.timegm((2024, 3, 2, 12, 0, 0))
    monday_open = calendar.timegm((2024, 3, 4, 14, 30, 0))
    bars = BarColumns.of(series(Interval.M1), [saturday_noon, monday_open], [1.0, 2.0], [1.0, 2.0], [1.0, 2.0],
                         [1.0, 2.0], [5.0, 7.0])
    got = resample(bars, Interval.H1, NASDAQ)
    assert got.time.tolist() == [monday_open] and got.volume.tolist() == [7.0]
    assert len(resample(bars.first(1), Interval.D1, NASDAQ)) == 0


def test_an_interval_built_from_itself_is_unchanged(minutes_24x7):
    assert resample(minutes_24x7, Interval.M1, UTC) is minutes_24x7
