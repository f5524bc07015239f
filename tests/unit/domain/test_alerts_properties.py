"""Properties of alert evaluation, each against a reference written plainly here."""

import math
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from src.domain.alerts import AlertBook, AlertTriggeredEvent
from src.domain.alerts.moment import bar_path
from src.domain.market_data import Interval, OHLCVBar, Symbol
from tests.unit.domain.alert_builders import AAPL, T0, minute_bar, rule

# Prices on a coarse grid around the levels, so touches and crossings are frequent.
grid_prices = st.lists(st.sampled_from([98.0, 99.0, 99.5, 100.0, 100.5, 101.0, 102.0]), min_size=1, max_size=60)


def _signed(prices, level):
    """(index, sign of price - level) of the ticks not exactly at the level."""
    return [(i, (p > level) - (p < level)) for i, p in enumerate(prices) if p != level]


def _crossing_indexes(prices, level, wanted):
    """Indexes where the sign (touches dropped) changes to `wanted` from its opposite."""
    return [j for (_, a), (j, b) in pairwise(_signed(prices, level)) if b == wanted and a == -wanted]


def _fired(form, prices, times=None, **fields):
    alert = rule(form, **fields)
    times = times or [T0 + i for i in range(len(prices))]
    fired = []
    for i, (price, at) in enumerate(zip(prices, times, strict=True)):
        alert, events = alert.on_tick(price, at)
        fired += [i] * len(events)
    return fired


@given(grid_prices)
def test_crosses_up_fires_once_per_upward_crossing(prices):
    assert _fired({"kind": "price_crosses", "level": 100, "direction": "up"}, prices) == _crossing_indexes(
        prices, 100, +1
    )


@given(grid_prices)
def test_crosses_either_fires_once_per_crossing(prices):
    expected = sorted(_crossing_indexes(prices, 100, +1) + _crossing_indexes(prices, 100, -1))
    assert _fired({"kind": "price_crosses", "level": 100}, prices) == expected


@given(grid_prices)
def test_price_above_fires_on_each_crossing_up_and_on_a_first_side_above(prices):
    signed = _signed(prices, 100)
    first = [signed[0][0]] if signed and signed[0][1] > 0 else []
    assert _fired({"kind": "price_above", "level": 100}, prices) == first + _crossing_indexes(prices, 100, +1)


@given(grid_prices, st.lists(st.sampled_from([0.0, 0.5, 1.0, 7.0]), min_size=60, max_size=60))
def test_with_a_cooldown_a_crossing_fires_only_once_the_previous_trigger_is_cooldown_old(prices, gaps):
    times = [T0 + sum(gaps[: i + 1]) for i in range(len(prices))]
    expected, last = [], -math.inf
    for i in _crossing_indexes(prices, 100, +1):
        if times[i] >= last + 10:
            expected.append(i)
            last = times[i]
    form = {"kind": "price_crosses", "level": 100, "direction": "up"}
    assert _fired(form, prices, times, cooldown_s=10) == expected


@given(grid_prices)
def test_a_one_time_rule_fires_at_the_first_crossing_only(prices):
    form = {"kind": "price_crosses", "level": 100, "direction": "down"}
    assert _fired(form, prices, one_time=True) == _crossing_indexes(prices, 100, -1)[:1]


@given(
    st.lists(st.tuples(st.floats(50, 150, allow_nan=False), st.floats(0, 400)), min_size=1, max_size=80),
    st.sampled_from([3.0, -3.0, 10.0]),
    st.sampled_from([60, 600, 3600]),
)
@settings(max_examples=150)
def test_percent_change_equals_a_brute_force_scan_of_the_window(steps, percent, window_s):
    prices = [price for price, _ in steps]
    times = [T0 + sum(gap for _, gap in steps[: i + 1]) for i in range(len(steps))]

    def bucket(t):
        return math.floor(t * 60 / window_s)

    expected, holding = [], False
    for i, (price, t) in enumerate(zip(prices, times, strict=True)):
        seen = [p for p, u in zip(prices[: i + 1], times[: i + 1], strict=True) if bucket(u) > bucket(t) - 60]
        reference = min(seen) if percent > 0 else max(seen)
        change = (price - reference) * 100
        holds = change >= percent * reference if percent > 0 else change <= percent * reference
        if holds and not holding:
            expected.append(i)
        holding = holds
    form = {"kind": "percent_change", "percent": percent, "window_s": window_s}
    assert _fired(form, prices, times) == expected


@given(
    st.lists(
        st.tuples(st.sampled_from([9.0, 10.0, 11.0]), st.sampled_from([9.5, 10.0, 10.5, math.nan])),
        min_size=1, max_size=50,
    )
)
def test_price_crossing_an_sma_on_bars_fires_once_per_crossing_skipping_warm_up(pairs):
    signs = [(i, (c > m) - (c < m)) for i, (c, m) in enumerate(pairs) if not math.isnan(m) and c != m]
    expected = [j for (_, a), (j, b) in pairwise(signs) if a != b]
    alert = rule({"kind": "price_crosses_ma", "average": "sma", "period": 50}, interval=Interval.M1)
    fired = []
    for i, (close, average) in enumerate(pairs):
        bar = minute_bar(T0 + 60 * i, close)
        alert, events = alert.on_bar_closed(bar, {"sma_50": average}, now=bar.closes_at)
        fired += [i] * len(events)
    assert fired == expected


# --- the book against evaluating every rule on every observation ----------------------------------------

SYMBOLS = [AAPL, Symbol("NASDAQ", "MSFT")]
LEVELS = [99.0, 100.0, 100.5, 101.0]
level_forms = st.one_of(
    st.builds(lambda lv: {"kind": "price_above", "level": lv}, st.sampled_from(LEVELS)),
    st.builds(lambda lv: {"kind": "price_below", "level": lv}, st.sampled_from(LEVELS)),
    st.builds(lambda lv, d: {"kind": "price_crosses", "level": lv, "direction": d},
              st.sampled_from(LEVELS), st.sampled_from(["up", "down", "either"])),
    st.just({"kind": "percent_change", "percent": 1.5, "window_s": 60}),
)
rule_specs = st.tuples(
    level_forms, st.sampled_from([0, 0, 2.0]), st.booleans(), st.sampled_from([None, 15.0, 40.0]),
    st.sampled_from(SYMBOLS), st.sampled_from([0, 0, 0, 1, 4, 9]),  # the step at which the rule is added
)
# An observation: a tick (symbol, price, seconds later) or a backfilled 1m bar of a symbol.
observations = st.one_of(
    st.tuples(st.just("tick"), st.sampled_from(SYMBOLS), st.sampled_from([*LEVELS, 98.5, 99.7, 102.0]),
              st.sampled_from([0.0, 0.5, 1.0, 3.0])),
    st.tuples(st.just("bar"), st.sampled_from(SYMBOLS), st.tuples(*[st.sampled_from([98.5, 99.5, 100.0, 101.5])] * 2),
              st.just(0.0)),
)


def _build(i, spec):
    form, cooldown, one_time, expires_in, symbol, _ = spec
    expires_at = None if expires_in is None else T0 + expires_in
    return rule(form, id=f"r{i}", symbol=symbol, cooldown_s=cooldown, one_time=one_time, expires_at=expires_at)


def _points(kind, symbol, payload, clock):
    """The (price, moment-or-time) points an observation feeds, and the clock after it."""
    if kind == "tick":
        return [(payload, clock)], clock
    start = Interval.M1.align(int(clock)) + 60
    low, high = sorted(payload)
    bar = OHLCVBar(Interval.M1, start, payload[0], high, low, payload[1], 1.0)
    return [bar], start + 60


def _trigger_keys(events):
    return sorted(
        (e.rule_id, e.triggered_at, e.late, e.trigger_count, tuple(sorted(e.values.items())))
        for e in events if isinstance(e, AlertTriggeredEvent)
    )


@given(st.lists(rule_specs, min_size=1, max_size=25), st.lists(observations, min_size=1, max_size=50))
@settings(max_examples=200, deadline=None)
def test_the_book_fires_exactly_what_evaluating_every_rule_naively_fires(specs, steps):
    rules = [_build(i, spec) for i, spec in enumerate(specs)]
    book, naive, last_time = AlertBook(), {}, {}
    clock = float(T0)
    for step, (kind, symbol, payload, gap) in enumerate(steps):
        for r, spec in zip(rules, specs, strict=True):
            if spec[5] == step:
                book.add(r)
                naive[r.id] = r
        clock += gap
        items, clock = _points(kind, symbol, payload, clock)
        if kind == "tick":
            book_events = [e for c in book.on_tick("tradingview", symbol, payload, clock) for e in c.events]
            points = [(payload, None, clock)]
        else:
            now = clock + 300
            book_events = [e for c in book.on_backfill("tradingview", symbol, items, now) for e in c.events]
            points = [(price, moment, moment.at) for price, moment in bar_path(items[0], now)]
        naive_events = []
        for price, moment, at in points:
            if at < last_time.get(symbol, -math.inf):
                continue  # the book's rule: a tick older than the symbol's latest is stale
            last_time[symbol] = at
            for rule_id, r in naive.items():
                if r.symbol == symbol:
                    change = r.on_tick(price, at) if moment is None else r.observe_price(price, moment)
                    naive[rule_id] = change.rule
                    naive_events += change.events
        assert _trigger_keys(book_events) == _trigger_keys(naive_events)
    book.advance_time(clock)
    for rule_id, r in naive.items():
        held, expected = book.get(rule_id), r.advance(clock).rule
        assert (held.status, held.memory.side, held.memory.trigger_count, held.memory.last_triggered_at) == (
            expected.status, expected.memory.side, expected.memory.trigger_count, expected.memory.last_triggered_at)
