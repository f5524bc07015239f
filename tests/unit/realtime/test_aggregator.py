"""BarAggregator rules, one test per rule (see the module docstring of src.domain.realtime.aggregator)."""

import calendar

import pytest

from src.domain.errors import InvalidQuote
from src.domain.market_data import Instrument, Interval, OHLCVBar, QuoteTick, SeriesKey, Symbol
from src.domain.realtime import BarAggregator, BarUpdate

BTC = Symbol("BINANCE", "BTCUSDT")
ETH = Symbol("BINANCE", "ETHUSDT")
T0 = 1_735_689_600  # 2025-01-01 00:00 UTC, a Wednesday
M1, M5, H1 = Interval.M1, Interval.M5, Interval.H1


def closed_bars(updates):
    assert all(u.closed for u in updates)
    return [u.bar for u in updates]


# -- alignment and OHLC -------------------------------------------------------------------------------


def test_bar_time_is_the_aligned_open_time_and_ohlc_follows_the_ticks():
    agg = BarAggregator([M1, M5], source="tradingview")
    agg.on_tick(BTC, T0 + 61.5, 10.0)
    agg.on_tick(BTC, T0 + 70, 12.0)
    agg.on_tick(BTC, T0 + 80, 9.0)
    agg.on_tick(BTC, T0 + 119.999, 11.0)
    # the first bars started mid-period: partial
    assert agg.forming(BTC, M1) == OHLCVBar(M1, T0 + 60, 10.0, 12.0, 9.0, 11.0, 0.0, partial=True)
    assert agg.forming(BTC, M5) == OHLCVBar(M5, T0, 10.0, 12.0, 9.0, 11.0, 0.0, partial=True)


def test_tick_at_the_close_time_closes_the_bar_and_opens_the_next():
    agg = BarAggregator([M1, M5], source="tradingview")
    agg.on_tick(BTC, T0 + 30, 10.0)
    updates = agg.on_tick(BTC, T0 + 60, 11.0)
    assert closed_bars(updates) == [OHLCVBar(M1, T0, 10.0, 10.0, 10.0, 10.0, 0.0, partial=True)]
    assert agg.forming(BTC, M1) == OHLCVBar(M1, T0 + 60, 11.0, 11.0, 11.0, 11.0, 0.0)  # a whole period
    assert agg.forming(BTC, M5).time == T0


def test_tick_within_a_bar_returns_no_updates():
    agg = BarAggregator([M1], source="tradingview")
    agg.on_tick(BTC, T0, 10.0)
    assert agg.on_tick(BTC, T0 + 1, 10.5) == ()


def test_symbols_are_aggregated_independently():
    agg = BarAggregator([M1], source="tradingview")
    agg.on_tick(BTC, T0, 100.0, 5.0)
    agg.on_tick(ETH, T0 + 1, 10.0, 50.0)
    agg.on_tick(BTC, T0 + 2, 101.0, 7.0)
    agg.on_tick(ETH, T0 + 3, 9.0, 53.0)
    assert agg.forming(BTC, M1) == OHLCVBar(M1, T0, 100.0, 101.0, 100.0, 101.0, 2.0, partial=True)
    assert agg.forming(ETH, M1) == OHLCVBar(M1, T0, 10.0, 10.0, 9.0, 9.0, 3.0, partial=True)
    assert set(agg.symbols) == {BTC, ETH}


def test_gap_of_several_periods_closes_the_old_bar_once_without_empty_bars():
    agg = BarAggregator([M1], source="tradingview")
    agg.on_tick(BTC, T0, 10.0)
    updates = agg.on_tick(BTC, T0 + 600, 11.0)
    assert [b.time for b in closed_bars(updates)] == [T0]
    assert agg.forming(BTC, M1).time == T0 + 600


def test_week_and_month_bars_close_at_calendar_edges():
    # 2024-02-29 is a Thursday; 2024-03-01 00:00 starts a month; 2024-03-04 00:00 is a Monday.
    feb29 = calendar.timegm((2024, 2, 29, 12, 0, 0))
    mar1 = calendar.timegm((2024, 3, 1, 0, 0, 0))
    mar4 = calendar.timegm((2024, 3, 4, 0, 0, 0))
    agg = BarAggregator([Interval.W1, Interval.MN1], source="tradingview")
    agg.on_tick(BTC, feb29, 10.0)
    month_closed = agg.on_tick(BTC, mar1, 11.0)
    assert [(b.interval, b.time) for b in closed_bars(month_closed)] == [
        (Interval.MN1, calendar.timegm((2024, 2, 1, 0, 0, 0)))
    ]
    week_closed = agg.on_tick(BTC, mar4 - 0.001, 12.0) or agg.on_tick(BTC, mar4, 13.0)
    assert [(b.interval, b.time) for b in closed_bars(week_closed)] == [
        (Interval.W1, calendar.timegm((2024, 2, 26, 0, 0, 0)))
    ]
    at_april = agg.close_due(calendar.timegm((2024, 4, 1, 0, 0, 0)))
    assert [(u.bar.interval, u.bar.time) for u in at_april] == [(Interval.W1, mar4), (Interval.MN1, mar1)]


# -- volume ---------------------------------------------------------------------------------------------


def test_first_tick_ever_for_a_symbol_contributes_no_volume():
    agg = BarAggregator([M1], source="tradingview")
    agg.on_tick(BTC, T0, 10.0, 1_000_000.0)
    assert agg.forming(BTC, M1).volume == 0.0


def test_bar_volume_is_the_increase_of_the_cumulative_total_never_the_raw_total():
    agg = BarAggregator([M1], source="tradingview")
    agg.on_tick(BTC, T0, 10.0, 1000.0)
    agg.on_tick(BTC, T0 + 10, 10.0, 1003.0)
    agg.on_tick(BTC, T0 + 20, 10.0, 1010.0)
    assert agg.forming(BTC, M1).volume == 10.0


def test_first_tick_of_a_bar_contributes_the_increase_since_the_previous_tick_of_the_symbol():
    agg = BarAggregator([M1], source="tradingview")
    agg.on_tick(BTC, T0 + 50, 10.0, 1000.0)
    agg.on_tick(BTC, T0 + 59, 10.0, 1004.0)
    [closed] = agg.on_tick(BTC, T0 + 65, 10.0, 1010.0)
    assert closed.bar.volume == 4.0
    assert agg.forming(BTC, M1).volume == 6.0


def test_a_drop_of_the_total_starts_a_new_session_counting_the_new_total():
    agg = BarAggregator([M1], source="tradingview")
    agg.on_tick(BTC, T0, 10.0, 5000.0)
    agg.on_tick(BTC, T0 + 1, 10.0, 5010.0)  # +10
    agg.on_tick(BTC, T0 + 2, 10.0, 30.0)  # new session: 30 traded since it started
    agg.on_tick(BTC, T0 + 3, 10.0, 35.0)  # +5
    assert agg.forming(BTC, M1).volume == 45.0


def test_ticks_without_volume_contribute_nothing_and_keep_the_last_total():
    agg = BarAggregator([M1], source="tradingview")
    agg.on_tick(BTC, T0, 10.0, 100.0)
    agg.on_tick(BTC, T0 + 1, 11.0, None)
    agg.on_tick(BTC, T0 + 2, 12.0, 104.0)
    assert agg.forming(BTC, M1) == OHLCVBar(M1, T0, 10.0, 12.0, 10.0, 12.0, 4.0, partial=True)


def test_volume_is_the_same_at_every_interval():
    agg = BarAggregator([M1, M5, H1], source="tradingview")
    agg.on_tick(BTC, T0, 10.0, 100.0)
    agg.on_tick(BTC, T0 + 1, 10.0, 107.0)
    assert {b.bar.volume for b in agg.forming_bars(BTC)} == {7.0}


def test_repeated_identical_tick_after_reconnect_adds_no_volume():
    agg = BarAggregator([M1], source="tradingview")
    agg.on_tick(BTC, T0, 10.0, 100.0)
    agg.on_tick(BTC, T0 + 5, 11.0, 120.0)
    agg.on_tick(BTC, T0 + 5, 11.0, 120.0)  # snapshot re-sent by the upstream
    assert agg.forming(BTC, M1).volume == 20.0


def test_reconnect_snapshot_with_a_higher_total_adds_only_the_difference():
    agg = BarAggregator([M1], source="tradingview")
    agg.on_tick(BTC, T0, 10.0, 100.0)
    agg.on_tick(BTC, T0 + 5, 11.0, 120.0)
    # disconnected; the snapshot after reconnect carries the total including what we missed
    agg.on_tick(BTC, T0 + 40, 12.0, 150.0)
    agg.on_tick(BTC, T0 + 40, 12.0, 150.0)
    assert agg.forming(BTC, M1).volume == 50.0


def test_on_quote_reads_the_quote_tick_fields():
    agg = BarAggregator([M1], source="tradingview")
    agg.on_quote(QuoteTick(BTC, T0, 10.0, cumulative_volume=5.0))
    agg.on_quote(QuoteTick(BTC, T0 + 1, 11.0, cumulative_volume=8.0))
    assert agg.forming(BTC, M1) == OHLCVBar(M1, T0, 10.0, 11.0, 10.0, 11.0, 3.0, partial=True)


@pytest.mark.parametrize(
    ("time", "price", "volume"),
    [(float("nan"), 1.0, None), (-1.0, 1.0, None), (1.0, float("inf"), None), (1.0, 1.0, -2.0)],
)
def test_invalid_raw_ticks_are_rejected(time, price, volume):
    with pytest.raises(InvalidQuote):
        BarAggregator([M1], source="tradingview").on_tick(BTC, time, price, volume)


# -- closing by timer --------------------------------------------------------------------------------


def test_close_due_closes_a_bar_whose_period_ended_without_a_further_tick():
    agg = BarAggregator([M1, M5], source="tradingview")
    agg.on_tick(BTC, T0 + 10, 10.0)
    assert agg.close_due(T0 + 59.9) == []
    [update] = agg.close_due(T0 + 60)
    bar = OHLCVBar(M1, T0, 10.0, 10.0, 10.0, 10.0, 0.0, partial=True)
    assert update == BarUpdate(Instrument("tradingview", BTC), bar, closed=True) and not update.full_period
    assert update.key == SeriesKey(BTC, M1, "tradingview")
    assert agg.forming(BTC, M1) is None
    assert agg.forming(BTC, M5) is not None


def test_each_completed_bar_is_reported_exactly_once():
    agg = BarAggregator([M1], source="tradingview")
    agg.on_tick(BTC, T0 + 10, 10.0)
    first = agg.close_due(T0 + 61)
    again = agg.close_due(T0 + 62)
    by_tick = agg.on_tick(BTC, T0 + 70, 11.0)
    assert len(first) == 1
    assert again == [] and by_tick == ()
    assert agg.forming(BTC, M1).time == T0 + 60


def test_a_bar_opened_after_a_timer_close_covers_its_whole_period():
    agg = BarAggregator([M1], source="tradingview")
    agg.on_tick(BTC, T0 + 10, 10.0)
    agg.close_due(T0 + 60)
    agg.on_tick(BTC, T0 + 70, 11.0)
    [update] = agg.close_due(T0 + 120)
    assert update.full_period


# -- stale and late ticks ----------------------------------------------------------------------------


def test_tick_older_than_the_forming_bar_is_ignored_and_counted():
    agg = BarAggregator([M1, H1], source="tradingview")
    agg.on_tick(BTC, T0 + 65, 10.0, 100.0)
    assert agg.on_tick(BTC, T0 + 59, 99.0, 500.0) == ()  # before the 1m bar: stale for every interval
    assert agg.forming(BTC, M1) == OHLCVBar(M1, T0 + 60, 10.0, 10.0, 10.0, 10.0, 0.0, partial=True)
    assert agg.forming(BTC, H1) == OHLCVBar(H1, T0, 10.0, 10.0, 10.0, 10.0, 0.0, partial=True)
    assert (agg.stale_ticks(BTC), agg.stale_ticks(ETH), agg.stale_ticks_total) == (1, 0, 1)


def test_stale_tick_volume_is_not_lost_but_counted_by_the_next_accepted_tick():
    agg = BarAggregator([M1], source="tradingview")
    agg.on_tick(BTC, T0 + 65, 10.0, 100.0)
    agg.on_tick(BTC, T0 + 59, 10.0, 104.0)  # stale: ignored, total stays 100
    agg.on_tick(BTC, T0 + 70, 10.0, 106.0)
    assert agg.forming(BTC, M1).volume == 6.0


def test_tick_in_a_period_already_closed_by_the_timer_is_stale():
    agg = BarAggregator([M1], source="tradingview")
    agg.on_tick(BTC, T0 + 30, 10.0)
    agg.close_due(T0 + 60)
    assert agg.on_tick(BTC, T0 + 45, 12.0) == ()
    assert agg.stale_ticks(BTC) == 1
    assert agg.forming(BTC, M1) is None


def test_late_tick_inside_the_forming_bar_updates_high_low_and_open_but_not_close():
    agg = BarAggregator([M1], source="tradingview")
    agg.on_tick(BTC, T0 + 20, 10.0, 100.0)
    agg.on_tick(BTC, T0 + 40, 11.0, 110.0)
    agg.on_tick(BTC, T0 + 30, 15.0, 112.0)  # late, higher high, total above the previous
    agg.on_tick(BTC, T0 + 10, 8.0, 90.0)  # late, earlier than the first tick: new open and low
    assert agg.forming(BTC, M1) == OHLCVBar(M1, T0, 8.0, 15.0, 8.0, 11.0, 12.0, partial=True)
    assert agg.stale_ticks(BTC) == 0


def test_late_tick_with_a_lower_total_is_not_a_new_session():
    agg = BarAggregator([M1], source="tradingview")
    agg.on_tick(BTC, T0 + 20, 10.0, 100.0)
    agg.on_tick(BTC, T0 + 40, 11.0, 110.0)
    agg.on_tick(BTC, T0 + 30, 10.5, 105.0)  # an older reading: adds nothing, reference stays 110
    agg.on_tick(BTC, T0 + 50, 11.0, 111.0)
    assert agg.forming(BTC, M1).volume == 11.0


def test_tick_at_the_same_time_as_the_latest_sets_the_close():
    agg = BarAggregator([M1], source="tradingview")
    agg.on_tick(BTC, T0 + 20, 10.0)
    agg.on_tick(BTC, T0 + 20, 12.0)
    assert agg.forming(BTC, M1).close == 12.0
    assert agg.forming(BTC, M1).open == 10.0


# -- intervals at runtime -------------------------------------------------------------------------------


def test_added_interval_starts_its_first_bar_with_the_next_tick():
    agg = BarAggregator([M1], source="tradingview")
    agg.on_tick(BTC, T0 + 10, 10.0, 100.0)
    agg.add_interval(H1)
    assert agg.forming(BTC, H1) is None
    agg.on_tick(BTC, T0 + 20, 11.0, 103.0)
    assert agg.forming(BTC, H1) == OHLCVBar(H1, T0, 11.0, 11.0, 11.0, 11.0, 3.0, partial=True)
    assert agg.intervals == (M1, H1)
    [update] = [u for u in agg.close_due(T0 + 3600) if u.bar.interval is H1]
    assert not update.full_period


def test_adding_an_interval_applies_to_symbols_seen_later_too():
    agg = BarAggregator(source="tradingview")
    agg.add_interval(M5)
    agg.add_interval(M1)
    agg.add_interval(M5)
    agg.on_tick(ETH, T0, 1.0)
    assert agg.intervals == (M1, M5)
    assert [u.bar.interval for u in agg.forming_bars(ETH)] == [M1, M5]


def test_removed_interval_drops_its_forming_bar_and_never_reports_it_closed():
    agg = BarAggregator([M1, M5], source="tradingview")
    agg.on_tick(BTC, T0 + 10, 10.0)
    agg.on_tick(ETH, T0 + 10, 1.0)
    dropped = agg.remove_interval(M5)
    assert [(u.symbol, u.bar.interval, u.closed) for u in dropped] == [(BTC, M5, False), (ETH, M5, False)]
    assert agg.forming(BTC, M5) is None
    updates = [*agg.on_tick(BTC, T0 + 400, 11.0), *agg.close_due(T0 + 10_000)]
    assert {u.bar.interval for u in updates} == {M1}
    assert agg.remove_interval(M5) == []


def test_set_intervals_adds_and_removes_to_match():
    agg = BarAggregator([M1, M5], source="tradingview")
    agg.on_tick(BTC, T0, 10.0)
    dropped = agg.set_intervals([M5, H1])
    assert [u.bar.interval for u in dropped] == [M1]
    assert agg.intervals == (M5, H1)


# -- readback, flush, unsubscribe --------------------------------------------------------------------


def test_forming_returns_none_for_unknown_symbol_or_interval():
    agg = BarAggregator([M1], source="tradingview")
    agg.on_tick(BTC, T0, 10.0)
    assert agg.forming(ETH, M1) is None
    assert agg.forming(BTC, H1) is None
    assert agg.forming_bars(ETH) == []


def test_flush_returns_every_forming_bar_as_partial_and_keeps_building_it():
    agg = BarAggregator([M1, M5], source="tradingview")
    agg.on_tick(BTC, T0 + 10, 10.0, 100.0)
    agg.on_tick(BTC, T0 + 20, 11.0, 101.0)
    agg.on_tick(ETH, T0 + 20, 1.0, 7.0)
    flushed = agg.flush()
    assert [(u.symbol, u.bar.interval, u.closed) for u in flushed] == [
        (BTC, M1, False), (BTC, M5, False), (ETH, M1, False), (ETH, M5, False)
    ]
    assert flushed[0].bar == OHLCVBar(M1, T0, 10.0, 11.0, 10.0, 11.0, 1.0, partial=True)
    assert all(u.bar.partial for u in flushed)  # snapshots stop short of their period's end
    # ticks resume: the bar continues and closes once, superseding the partial snapshot
    agg.on_tick(BTC, T0 + 30, 12.0, 104.0)
    [closed] = [u for u in agg.close_due(T0 + 60) if u.symbol == BTC]
    assert closed.closed
    assert closed.bar == OHLCVBar(M1, T0, 10.0, 12.0, 10.0, 12.0, 4.0, partial=True)  # its first bar


def test_flush_of_an_empty_aggregator_returns_nothing():
    assert BarAggregator([M1], source="tradingview").flush() == []


def test_remove_symbol_returns_its_forming_bars_and_forgets_it():
    agg = BarAggregator([M1], source="tradingview")
    agg.on_tick(BTC, T0, 10.0, 100.0)
    [update] = agg.remove_symbol(BTC)
    assert not update.closed and update.bar.time == T0
    assert agg.symbols == ()
    assert agg.remove_symbol(BTC) == []
    agg.on_tick(BTC, T0 + 1, 11.0, 150.0)  # a fresh start: the first total contributes nothing
    assert agg.forming(BTC, M1).volume == 0.0


def test_forming_bar_materialised_is_a_validated_snapshot_not_a_live_view():
    agg = BarAggregator([M1], source="tradingview")
    agg.on_tick(BTC, T0, 10.0)
    snapshot = agg.forming(BTC, M1)
    agg.on_tick(BTC, T0 + 1, 20.0)
    assert snapshot.close == 10.0
    assert agg.forming(BTC, M1).close == 20.0


# -- volume across resets and revisions ----------------------------------------------------------------


def test_a_tiny_downward_revision_of_the_total_neither_creates_nor_loses_volume():
    agg = BarAggregator([M1], source="tradingview")
    agg.on_tick(BTC, T0 + 1, 10.0, 1_000_000.0)
    agg.on_tick(BTC, T0 + 2, 10.0, 1_000_010.0)  # +10
    agg.on_tick(BTC, T0 + 3, 10.0, 1_000_009.9)  # a revision: nothing traded, the reference stays
    agg.on_tick(BTC, T0 + 4, 10.0, 1_000_010.5)  # +0.5 above the highest total
    assert agg.forming(BTC, M1).volume == pytest.approx(10.5)  # exactly the growth of the total


def test_a_drop_below_half_of_the_total_is_a_new_session():
    agg = BarAggregator([M1], source="tradingview")
    agg.on_tick(BTC, T0 + 1, 10.0, 1_000.0)
    agg.on_tick(BTC, T0 + 2, 10.0, 499.0)
    assert agg.forming(BTC, M1).volume == 499.0


def test_after_an_outage_the_first_total_is_a_fresh_reference_so_a_hidden_reset_creates_no_volume():
    agg = BarAggregator([M1], source="tradingview")
    agg.on_tick(BTC, T0 + 1, 10.0, 1_000.0)
    agg.on_tick(BTC, T0 + 2, 10.0, 1_010.0)
    agg.interrupt(BTC)
    agg.on_tick(BTC, T0 + 40, 10.0, 700.0)  # the session reset while we were away
    agg.on_tick(BTC, T0 + 50, 10.0, 705.0)
    assert agg.forming(BTC, M1).volume == 15.0  # 10 before, 5 after; the outage's volume is the source's


# -- partial bars, outages and seeding -----------------------------------------------------------------


def test_bars_forming_during_an_outage_and_the_next_one_are_partial():
    agg = BarAggregator([M1], source="tradingview")
    agg.on_tick(BTC, T0 + 1, 10.0)
    agg.on_tick(BTC, T0 + 61, 10.0)  # a whole-period bar
    agg.interrupt(BTC)
    [straddling] = agg.close_due(T0 + 120)
    assert straddling.bar.partial
    agg.on_tick(BTC, T0 + 200, 11.0)
    [after] = agg.close_due(T0 + 240)
    assert after.bar.partial
    agg.on_tick(BTC, T0 + 250, 12.0)
    [whole] = agg.close_due(T0 + 300)
    assert not whole.bar.partial


def test_a_seed_gives_the_forming_bar_the_sources_values_and_ticks_extend_it():
    agg = BarAggregator([M1, M5], source="tradingview")
    agg.on_tick(BTC, T0 + 100, 10.0, 1_000.0)  # subscribed mid-bar: partial so far
    source = OHLCVBar(M1, T0 + 60, 9.0, 10.5, 8.5, 10.0, 40.0)
    applied, closed = agg.seed(BTC, source)
    assert applied and closed == []
    assert agg.forming(BTC, M1) == source  # complete now
    agg.on_tick(BTC, T0 + 110, 12.0, 1_002.0)
    assert agg.forming(BTC, M1) == OHLCVBar(M1, T0 + 60, 9.0, 12.0, 8.5, 12.0, 42.0)
    assert agg.forming(BTC, M5).partial  # not seeded


def test_a_seed_widens_high_and_low_by_the_ticks_already_applied():
    agg = BarAggregator([M1], source="tradingview")
    agg.on_tick(BTC, T0 + 10, 20.0)
    agg.on_tick(BTC, T0 + 11, 5.0)
    agg.seed(BTC, OHLCVBar(M1, T0, 9.0, 10.0, 8.0, 9.5, 3.0))
    assert agg.forming(BTC, M1) == OHLCVBar(M1, T0, 9.0, 20.0, 5.0, 9.5, 3.0)


def test_a_seed_for_the_next_period_closes_the_forming_bar_and_an_older_seed_is_not_applied():
    agg = BarAggregator([M1], source="tradingview")
    agg.on_tick(BTC, T0 + 10, 10.0)
    applied, [closed] = agg.seed(BTC, OHLCVBar(M1, T0 + 60, 10.0, 10.0, 10.0, 10.0, 1.0))
    assert applied and closed.bar.time == T0 and closed.closed
    assert agg.seed(BTC, OHLCVBar(M1, T0, 10.0, 10.0, 10.0, 10.0, 1.0)) == (False, [])
    agg.close_due(T0 + 120)
    assert agg.seed(BTC, OHLCVBar(M1, T0 + 60, 10.0, 10.0, 10.0, 10.0, 1.0)) == (False, [])  # closed by then


def test_a_seed_before_any_tick_starts_a_complete_bar_and_ticks_after_it_count_from_the_next_total():
    agg = BarAggregator([M1], source="tradingview")
    agg.seed(ETH, OHLCVBar(M1, T0, 5.0, 6.0, 4.0, 5.5, 100.0))
    agg.on_tick(ETH, T0 + 30, 5.7, 9_000.0)  # the first total: a reference
    agg.on_tick(ETH, T0 + 40, 5.8, 9_003.0)
    assert agg.forming(ETH, M1) == OHLCVBar(M1, T0, 5.0, 6.0, 4.0, 5.8, 103.0)
    assert agg.on_tick(ETH, T0 - 1, 1.0) == ()  # before the seeded bar: stale


# -- closing by feed time --------------------------------------------------------------------------------


def test_a_delayed_feed_keeps_its_bars_open_until_its_own_trades_pass_their_end():
    agg = BarAggregator([M1], source="tradingview")
    agg.on_quote(QuoteTick(BTC, T0 + 10, 10.0, delay=900.0), received_at=T0 + 910)
    assert agg.close_due(T0 + 900 + 61, grace=2.0) == []  # wall clock past the end, the feed is not
    [closed] = agg.close_due(T0 + 900 + 62, grace=2.0)
    assert closed.bar.time == T0


def test_a_feed_lagging_without_saying_so_gets_its_observed_lag():
    agg = BarAggregator([M1], source="tradingview")
    for second in range(10, 60, 5):
        agg.on_quote(QuoteTick(BTC, T0 + second, 10.0, cumulative_volume=float(second)), received_at=T0 + second + 3)
    assert agg.close_due(T0 + 64, grace=2.0) == []  # 3 s behind: its trades have not reached 60 yet
    agg.on_quote(QuoteTick(BTC, T0 + 59.5, 11.0, cumulative_volume=70.0), received_at=T0 + 62.5)
    [closed] = agg.close_due(T0 + 65, grace=2.0)
    assert closed.bar.close == 11.0 and agg.stale_ticks(BTC) == 0


def test_one_old_snapshot_is_not_taken_for_a_lagging_feed():
    agg = BarAggregator([M1], source="tradingview")
    agg.on_quote(QuoteTick(BTC, T0 + 10, 10.0), received_at=T0 + 600)  # the last trade was long ago
    assert [u.bar.time for u in agg.close_due(T0 + 600, grace=2.0)] == [T0]
