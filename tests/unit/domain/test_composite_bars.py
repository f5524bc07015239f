"""Composite bars (`src/domain/market_data/composite.py`) against pandas' resampling as the reference."""

from dataclasses import dataclass

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from src.domain.errors import InvalidInterval
from src.domain.market_data import Interval, OHLCVBar
from src.domain.market_data.composite import compose

DAY = 86_400


def minute_bars(start: int, closes: list[float], interval: Interval = Interval.M1, volume: float = 2.0):
    bars, previous = [], closes[0]
    for index, close in enumerate(closes):
        high, low = max(previous, close) + 0.5, min(previous, close) - 0.5
        bars.append(OHLCVBar(interval, start + index * interval.seconds, previous, high, low, close, volume + index))
        previous = close
    return bars


def pandas_reference(bars: list[OHLCVBar], rule: str, origin: str | pd.Timestamp = "epoch") -> list[tuple]:
    frame = pd.DataFrame(
        {"open": [b.open for b in bars], "high": [b.high for b in bars], "low": [b.low for b in bars],
         "close": [b.close for b in bars], "volume": [b.volume for b in bars]},
        index=pd.to_datetime([b.time for b in bars], unit="s", utc=True),
    )
    out = frame.resample(rule, origin=origin, label="left", closed="left").agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}).dropna()
    return [(int(t.timestamp()), *row) for t, row in zip(out.index, out.itertuples(index=False), strict=True)]


@dataclass(frozen=True)
class Row:
    time: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    partial: bool = False


def _utc(epoch: int) -> pd.Timestamp:
    return pd.Timestamp(epoch, unit="s", tz="UTC")


def as_tuples(bars: list[OHLCVBar]) -> list[tuple]:
    return [(b.time, b.open, b.high, b.low, b.close, b.volume) for b in bars]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(min_value=1, max_value=1000, allow_nan=False), min_size=1, max_size=400),
       st.integers(min_value=0, max_value=200), st.sets(st.integers(min_value=0, max_value=399), max_size=50))
def test_grouping_on_the_utc_grid_equals_pandas_resampling(closes, offset_minutes, missing):
    start = 1_700_000_000 - 1_700_000_000 % 60 + offset_minutes * 60
    bars = [b for i, b in enumerate(minute_bars(start, closes)) if i not in missing] or minute_bars(start, closes)[:1]
    for interval, rule in ((Interval.M45, "45min"), (Interval.H3, "3h"), (Interval.M3, "3min")):
        assert as_tuples(compose(bars, Interval.M1, interval)) == pandas_reference(bars, rule)


def test_values_are_first_open_last_close_extremes_and_summed_volume():
    bars = minute_bars(0, [10, 12, 9, 11, 15, 14])  # 15m bars at 0, 900, ... : two 45m groups of three
    quarter = [OHLCVBar(Interval.M15, i * 900, b.open, b.high, b.low, b.close, b.volume) for i, b in enumerate(bars)]
    first, second = compose(quarter, Interval.M15, Interval.M45)
    assert (first.time, first.open, first.high, first.low, first.close) == (0, 10, 12.5, 8.5, 9)
    assert first.volume == 2 + 3 + 4
    assert (second.time, second.open, second.close, second.volume) == (2700, 9, 14, 5 + 6 + 7)


def test_session_anchored_groups_follow_group_open_and_are_stamped_at_it():
    session_open = 1_700_000_000 - 1_700_000_000 % DAY + 13 * 3600 + 1800  # 13:30 UTC
    minutes = minute_bars(session_open, [float(x % 37 + 1) for x in range(390)])  # 13:30 ... 20:00
    hours = [Row(t, *values) for t, *values in pandas_reference(minutes, "1h", origin=_utc(session_open))]
    assert [h.time for h in hours] == [session_open + i * 3600 for i in range(7)]  # off the 1h grid
    anchored = compose(hours, Interval.H1, Interval.H3,
                       lambda t: session_open + (t - session_open) // 10_800 * 10_800)
    reference = pandas_reference(minutes, "3h", origin=_utc(session_open))  # 13:30, 16:30, 19:30
    assert [b.time % DAY for b in anchored] == [13 * 3600 + 1800, 16 * 3600 + 1800, 19 * 3600 + 1800]
    assert as_tuples(anchored) == reference


def test_bars_of_the_same_interval_restamped_by_group_open_keep_their_values():
    session_open = 1_700_000_000 - 1_700_000_000 % DAY + 13 * 3600 + 1800
    hours = [Row(session_open + i * 3600 + 60, 1.0, 2.0, 0.5, 1.5, 10.0) for i in range(7)]  # a minute late
    stamped = compose(hours, Interval.H1, Interval.H1, lambda t: t - 60)
    assert [b.time for b in stamped] == [session_open + i * 3600 for i in range(7)]
    assert as_tuples(stamped)[0][1:] == (1.0, 2.0, 0.5, 1.5, 10.0)


def test_a_composite_is_partial_when_any_finer_bar_is():
    bars = minute_bars(0, [1.0, 2.0, 3.0, 4.0])
    bars[1] = OHLCVBar(Interval.M1, 60, bars[1].open, bars[1].high, bars[1].low, bars[1].close, 1.0, partial=True)
    assert [b.partial for b in compose(bars, Interval.M1, Interval.M3)] == [True, False]


def test_missing_finer_bars_do_not_make_a_composite_partial():
    bars = minute_bars(0, [1.0, 2.0, 3.0])
    assert [b.partial for b in compose([bars[0], bars[2]], Interval.M1, Interval.M3)] == [False]


@pytest.mark.parametrize(("finer", "target"), [(Interval.H1, Interval.M45), (Interval.M30, Interval.M45),
                                                (Interval.MN1, Interval.MN1), (Interval.W1, Interval.MN1)])
def test_only_finer_fixed_intervals_that_divide_the_target_compose(finer, target):
    with pytest.raises(InvalidInterval):
        compose([], finer, target)


def test_monthly_bars_from_daily_ones_follow_the_calendar_month():
    days = minute_bars(1_704_067_200, [float(i + 1) for i in range(62)], Interval.D1)  # 2024-01-01 .. 03-02
    months = compose(days, Interval.D1, Interval.MN1)
    assert [b.time for b in months] == [1_704_067_200, 1_706_745_600, 1_709_251_200]
    assert [b.close for b in months] == [31.0, 60.0, 62.0]
