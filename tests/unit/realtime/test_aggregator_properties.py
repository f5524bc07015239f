"""Property: for random tick streams the aggregator's bars equal a straightforward reference computation.

The reference reads the stream once to decide, per tick, whether it is accepted (the stale rule) and what
volume it contributes (the cumulative-delta rule), then groups the accepted ticks by `interval.align` and
takes open/close by time (ties by arrival), high/low, and the sum of deltas; the first bar of each symbol
and interval is partial (it started mid-period), and so is the last unless a timer closed it (otherwise it is
the final flush's snapshot of a bar still forming).
The aggregator is fed the same ticks with timer calls in between (never later than any tick still to come)
and a final flush.
"""

import calendar
import math
from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from src.domain.market_data import Interval, Symbol
from src.domain.realtime import BarAggregator

SYMBOLS = [Symbol("BINANCE", "BTCUSDT"), Symbol("NASDAQ", "AAPL"), Symbol("CME_MINI", "ES1!")]
# Starting points just before calendar edges: month and year ends, leap day, a Monday, a Sunday night.
BASES = [
    calendar.timegm((2024, 2, 29, 23, 58, 0)),
    calendar.timegm((2024, 12, 31, 23, 59, 30)),
    calendar.timegm((2025, 3, 2, 23, 59, 0)),  # Sunday before Monday 2025-03-03
    calendar.timegm((2025, 1, 31, 22, 0, 0)),
    calendar.timegm((2025, 6, 15, 11, 59, 59)),
]

steps = st.one_of(
    st.floats(min_value=0, max_value=5),  # same bar mostly, equal times included
    st.just(0.0),
    st.floats(min_value=5, max_value=7_200),  # across intraday boundaries
    st.floats(min_value=7_200, max_value=40 * 86_400),  # across days, weeks and months
    st.floats(min_value=-120, max_value=0),  # late ticks: some inside the forming bar, some stale
    st.just(math.nan),  # to the next whole minute exactly: ticks at the close time of bars
)
volumes = st.one_of(
    st.floats(min_value=0, max_value=100).map(lambda inc: ("add", inc)),
    st.floats(min_value=0, max_value=50).map(lambda start: ("reset", start)),
    st.just(("none", 0.0)),
)


@st.composite
def tick_streams(draw):
    now = float(draw(st.sampled_from(BASES)))
    totals: dict[Symbol, float] = {}
    ticks = []
    for _ in range(draw(st.integers(min_value=1, max_value=120))):
        step = draw(steps)
        now = float(int(now) // 60 * 60 + 60) if math.isnan(step) else max(0.0, now + step)
        symbol = draw(st.sampled_from(SYMBOLS))
        kind, amount = draw(volumes)
        if kind == "none":
            total = None
        else:
            total = amount if kind == "reset" else totals.get(symbol, draw(st.floats(0, 1e6))) + amount
            totals[symbol] = total
        price = draw(st.sampled_from([10.0, 10.5, 11.0])) if draw(st.booleans()) else draw(
            st.floats(min_value=0.01, max_value=1e5)
        )
        ticks.append((symbol, now, price, total))
    return ticks


def accepted_ticks(ticks, intervals):
    """Per symbol, the accepted ticks as (time, arrival, price, delta), following the documented rules."""
    latest: dict[Symbol, float] = defaultdict(lambda: -math.inf)
    watermark: dict[Symbol, float] = defaultdict(lambda: -math.inf)
    reference_total: dict[Symbol, float | None] = defaultdict(lambda: None)
    accepted = defaultdict(list)
    for arrival, (symbol, t, price, total) in enumerate(ticks):
        if t < watermark[symbol]:
            continue  # stale
        in_order = t >= latest[symbol]
        previous = reference_total[symbol]
        delta = 0.0
        if total is not None:
            if previous is None:
                reference_total[symbol] = total
            elif in_order and total >= previous:
                delta = total - previous
                reference_total[symbol] = total
            elif in_order and total < previous / 2:  # a new session; a smaller drop is a revision
                delta = total
                reference_total[symbol] = total
            elif total > previous:
                delta = total - previous
                reference_total[symbol] = total
        accepted[symbol].append((t, arrival, price, delta))
        if in_order:
            latest[symbol] = t
            watermark[symbol] = max(interval.align(int(t)) for interval in intervals)
    return accepted


def closed_by_a_timer(ticks, timer_points, opened_at: int, end: int) -> bool:
    """Whether a timer point after the bar opened (arrival `opened_at`) ran with `now` at or past its end."""
    ahead = [min((t for _, t, _, _ in ticks[i:]), default=math.inf) for i in range(len(ticks))]
    return any(opened_at < i < len(ticks) and ahead[i] >= end for i in timer_points)


def reference_bars(ticks, intervals, timer_points):
    bars = {}
    for symbol, rows in accepted_ticks(ticks, intervals).items():
        for interval in intervals:
            buckets = defaultdict(list)
            for row in rows:
                buckets[interval.align(int(row[0]))].append(row)
            first_bar, last_bar = min(buckets), max(buckets)
            last_opened = min(r[1] for r in buckets[last_bar])
            forming_at_the_end = not closed_by_a_timer(ticks, timer_points, last_opened, interval.next_open(last_bar))
            for bar_time, group in buckets.items():
                first = min(group, key=lambda r: (r[0], r[1]))
                last = max(group, key=lambda r: (r[0], r[1]))
                bars[(symbol, interval, bar_time)] = (
                    first[2],
                    max(r[2] for r in group),
                    min(r[2] for r in group),
                    last[2],
                    sum(r[3] for r in group),
                    bar_time == first_bar or (bar_time == last_bar and forming_at_the_end),
                )
    return bars


def aggregated_bars(ticks, intervals, timer_points):
    aggregator = BarAggregator(intervals, source="tradingview")
    # a timer may run between ticks, but never later than a tick still to come
    earliest_ahead = [math.inf] * (len(ticks) + 1)
    for i in range(len(ticks) - 1, -1, -1):
        earliest_ahead[i] = min(ticks[i][1], earliest_ahead[i + 1])
    closed, partial = [], []
    for i, (symbol, t, price, total) in enumerate(ticks):
        if i in timer_points:
            closed.extend(aggregator.close_due(earliest_ahead[i]))
        closed.extend(aggregator.on_tick(symbol, t, price, total))
    partial.extend(aggregator.flush())
    assert all(u.closed for u in closed) and not any(u.closed for u in partial)
    bars = {}
    for update in [*closed, *partial]:
        bar = update.bar
        key = (update.symbol, bar.interval, bar.time)
        assert key not in bars, f"bar reported twice: {key}"
        bars[key] = (bar.open, bar.high, bar.low, bar.close, bar.volume, bar.partial)
    return bars


@settings(max_examples=250, deadline=None)
@given(
    ticks=tick_streams(),
    intervals=st.lists(st.sampled_from(list(Interval)), min_size=1, unique=True),
    timer_points=st.sets(st.integers(min_value=0, max_value=120)),
)
def test_bars_equal_the_reference_computation_at_every_interval(ticks, intervals, timer_points):
    expected = reference_bars(ticks, intervals, timer_points)
    actual = aggregated_bars(ticks, intervals, timer_points)
    assert actual.keys() == expected.keys()
    for key, (o, h, lo, c, v, partial) in expected.items():
        assert actual[key][:4] == (o, h, lo, c), key
        assert math.isclose(actual[key][4], v, rel_tol=1e-9, abs_tol=1e-6), key
        assert actual[key][5] is partial, key


@settings(max_examples=100, deadline=None)
@given(ticks=tick_streams())
def test_volume_over_all_bars_is_the_same_at_every_interval(ticks):
    intervals = list(Interval)
    bars = aggregated_bars(ticks, intervals, timer_points=set())
    per_interval = defaultdict(float)
    for (_, interval, _), values in bars.items():
        per_interval[interval] += values[4]
    totals = list(per_interval.values())
    assert all(math.isclose(t, totals[0], rel_tol=1e-9, abs_tol=1e-6) for t in totals)
