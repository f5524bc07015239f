"""Simulator → TradingViewClient → QuoteService: live bars at several intervals, reconnects, timer, stop."""

import pytest

from src.domain.market_data import Interval, OHLCVBar
from tests.integration.quotes.conftest import BTC, T0, until

pytestmark = pytest.mark.integration

M1, M5, H1, M15 = Interval.M1, Interval.M5, Interval.H1, Interval.M15


def reference(ticks: list[tuple[float, float, float]], interval: Interval, start_total: float) -> dict:
    """Straightforward bars from (offset, price, cumulative volume) ticks: volume = growth of the total."""
    bars: dict[int, list[float]] = {}
    previous = start_total
    for offset, price, total in ticks:
        t = interval.align(int(T0 + offset))
        delta, previous = total - previous, total
        if t not in bars:
            bars[t] = [price, price, price, price, 0.0]
        bar = bars[t]
        bar[1], bar[2], bar[3], bar[4] = max(bar[1], price), min(bar[2], price), price, bar[4] + delta
    return {t: OHLCVBar(interval, t, *values) for t, values in bars.items()}


async def prime(live, total: float = 1_000.0) -> None:
    """Subscribe and push one trade just before T0, so bars from T0 on cover their whole period."""
    await live.service.subscribe([BTC])
    await live.push(-30, 99.0, total)


TICKS = [(0, 100.0, 1_010.0), (5, 101.0, 1_012.5), (30, 104.0, 1_020.0), (59, 98.0, 1_030.0),
         (60, 99.0, 1_031.0), (250, 105.0, 1_060.0), (299, 97.0, 1_061.0), (300, 102.0, 1_070.0),
         (1_799, 103.0, 1_090.0), (3_599, 96.0, 1_100.0), (3_600, 110.0, 1_200.0)]


async def test_ticks_build_the_reference_bars_at_every_interval(live):
    await prime(live)
    for offset, price, total in TICKS:
        await live.push(offset, price, total)
    for interval in (M1, M5, H1):
        expected = {t: b for t, b in reference(TICKS, interval, 1_000.0).items()
                    if t < interval.align(T0 + 3_600)}  # the last tick's bars are still forming
        await until(lambda i=interval, e=expected: all(t in live.stored(BTC, i) for t in e))
        assert {t: live.stored(BTC, interval)[t] for t in expected} == expected
    forming = live.service.current_bar(BTC, H1)
    assert forming.bar == OHLCVBar(H1, T0 + 3_600, 110.0, 110.0, 110.0, 110.0, 100.0) and not forming.closed
    times = {(e.key.interval, e.bar.time) for e in live.completed}
    assert {(M1, T0), (M5, T0), (H1, T0)} <= times


async def test_disconnect_in_the_middle_of_a_bar_loses_and_doubles_no_volume(live):
    await prime(live)
    await live.push(5, 101.0, 1_010.0)
    await live.push(20, 102.0, 1_020.0)
    before = live.client.reconnect_count
    await live.sim.drop_all_connections()
    await live.sim.push_tick(BTC.symbol.ticker, 120.0, 1_035.0, when=T0 + 30)  # traded while we were away
    await until(lambda: live.client.reconnect_count > before and live.client.connected, within=5.0)
    await until(lambda: live.service.latest_quote(BTC).cumulative_volume == 1_035.0)  # the snapshot
    await live.push(40, 103.0, 1_040.0)
    await live.push(61, 104.0, 1_050.0)
    await until(lambda: T0 in live.stored(BTC, M1))
    assert live.stored(BTC, M1)[T0] == OHLCVBar(M1, T0, 101.0, 120.0, 101.0, 103.0, 40.0)
    assert live.service.status().reconnect_count >= 1


async def test_timer_closes_the_bar_when_its_period_ends_without_a_tick(live):
    await prime(live)
    await live.push(10, 100.0, 1_005.0)
    live.clock.value = T0 + 30
    await live.service.drain()
    assert T0 not in live.stored(BTC, M1)
    live.clock.value = T0 + 63  # period end + grace (2 s) + 1
    await until(lambda: T0 in live.stored(BTC, M1))
    assert live.stored(BTC, M1)[T0] == OHLCVBar(M1, T0, 100.0, 100.0, 100.0, 100.0, 5.0)
    assert (M1, T0) in {(e.key.interval, e.bar.time) for e in live.completed}
    assert live.service.current_bar(BTC, M1).closed
    assert T0 not in live.stored(BTC, M5)  # still forming


async def test_stop_flushes_forming_bars_and_unsubscribes_upstream(live):
    await prime(live)
    await live.push(10, 100.0, 1_005.0)
    await live.push(20, 101.0, 1_007.0)
    await live.service.stop()
    for interval in (M1, M5, H1):  # snapshots cut short by the stop: partial
        assert live.stored(BTC, interval)[T0] == OHLCVBar(interval, T0, 100.0, 101.0, 100.0, 101.0, 7.0, partial=True)
    assert not live.completed or all(e.bar.time < T0 for e in live.completed)  # flushes are not completions
    assert any(method == "quote_remove_symbols" for method, _ in live.sim.received)


async def test_runtime_interval_change_keeps_bars_consistent(live):
    await prime(live)
    await live.push(10, 100.0, 1_005.0)
    assert live.service.set_intervals([M1, M15]) == (M1, M15)
    await until(lambda: T0 in live.stored(BTC, M5) and T0 in live.stored(BTC, H1))  # dropped, persisted
    await live.push(20, 101.0, 1_010.0)
    await live.push(900, 102.0, 1_020.0)  # closes the first (partial) 15m bar
    await live.push(1_800, 103.0, 1_030.0)  # closes the first full 15m bar
    await until(lambda: T0 + 900 in live.stored(BTC, M15))
    assert live.stored(BTC, M15)[T0] == OHLCVBar(M15, T0, 101.0, 101.0, 101.0, 101.0, 5.0, partial=True)  # added
    assert live.stored(BTC, M15)[T0 + 900] == OHLCVBar(M15, T0 + 900, 102.0, 102.0, 102.0, 102.0, 10.0)
    assert live.stored(BTC, M1)[T0] == OHLCVBar(M1, T0, 100.0, 101.0, 100.0, 101.0, 10.0)
