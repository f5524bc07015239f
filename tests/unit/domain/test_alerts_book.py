"""The alert book: an index that touches only the rules a tick can change, and gives the same triggers
as evaluating every rule on every observation."""

import pytest

from src.domain.alerts import AlertBook, AlertMemory, AlertStatus, AlertTriggeredEvent
from src.domain.alerts.errors import DuplicateAlertRule, UnknownAlertRule
from src.domain.market_data import Interval, OHLCVBar, Symbol
from tests.unit.domain.alert_builders import AAPL, T0, minute_bar, rule

TV = "tradingview"
MSFT = Symbol("NASDAQ", "MSFT")


def crosses(level, rule_id, **fields):
    return rule({"kind": "price_crosses", "level": level}, id=rule_id, **fields)


def _book(*rules):
    return AlertBook(rules)


def _triggered(changes):
    return sorted(e.rule_id for change in changes for e in change.events if isinstance(e, AlertTriggeredEvent))


def test_a_tick_touches_only_the_rules_whose_level_lies_between_the_previous_and_the_current_price():
    book = _book(*(crosses(level, f"at{level}") for level in (90, 95, 100, 105, 110)))
    book.on_tick(TV, AAPL, 97.0, T0)  # first tick: every rule learns its side
    before = {rule.id: rule for rule in book}
    changes = book.on_tick(TV, AAPL, 102.0, T0 + 1)
    assert [change.rule.id for change in changes] == ["at100"] and _triggered(changes) == ["at100"]
    assert all(book.get(rule_id) is before[rule_id] for rule_id in ("at90", "at95", "at105", "at110"))
    assert _triggered(book.on_tick(TV, AAPL, 111.0, T0 + 2)) == ["at105", "at110"]
    assert _triggered(book.on_tick(TV, AAPL, 89.0, T0 + 3)) == ["at100", "at105", "at110", "at90", "at95"]


def test_a_level_touched_by_the_previous_tick_is_evaluated_on_the_next_move():
    book = _book(crosses(100, "r"))
    book.on_tick(TV, AAPL, 99.0, T0)
    assert book.on_tick(TV, AAPL, 100.0, T0 + 1) == []
    assert _triggered(book.on_tick(TV, AAPL, 101.0, T0 + 2)) == ["r"]


def test_a_rule_added_later_is_evaluated_on_the_next_tick_wherever_its_level_is():
    book = AlertBook()
    book.add(crosses(500, "other"))
    book.on_tick(TV, AAPL, 120.0, T0)
    book.add(rule({"kind": "price_above", "level": 100.0}, id="above"))
    assert _triggered(book.on_tick(TV, AAPL, 120.5, T0 + 1)) == ["above"]


def test_a_rule_restored_below_its_level_fires_on_the_first_tick_above_after_a_restart():
    restored = crosses(100, "r", memory=AlertMemory(side="below", observed_at=T0))
    assert _triggered(_book(restored).on_tick(TV, AAPL, 105.0, T0 + 600)) == ["r"]


def test_a_restored_rule_that_has_seen_later_prices_than_a_tick_waits_for_a_tick_it_has_not_seen():
    restored = rule({"kind": "price_crosses", "level": 100, "direction": "down"}, id="r",
                    memory=AlertMemory(side="above", observed_at=T0 + 100))
    book = _book(restored)
    assert book.on_tick(TV, AAPL, 99.0, T0 + 50) == []  # older than what the rule saw: it learns nothing
    assert _triggered(book.on_tick(TV, AAPL, 98.0, T0 + 101)) == ["r"]


def test_non_level_tick_rules_see_every_tick_of_their_symbol():
    book = _book(rule({"kind": "percent_change", "percent": 5, "window_s": 3600}, id="pct"))
    assert len(book.on_tick(TV, AAPL, 100.0, T0)) == 1
    assert len(book.on_tick(TV, AAPL, 100.0, T0 + 1)) == 1  # the rule's memory moved on
    assert _triggered(book.on_tick(TV, AAPL, 105.0, T0 + 2)) == ["pct"]


def test_ticks_of_other_symbols_or_sources_touch_nothing():
    book = _book(crosses(100, "r"))
    assert book.on_tick(TV, MSFT, 99.0, T0) == []
    assert book.on_tick("binance", AAPL, 99.0, T0) == []


def test_a_tick_older_than_the_symbols_latest_is_ignored():
    book = _book(crosses(100, "r"))
    book.on_tick(TV, AAPL, 99.0, T0 + 10)
    assert book.on_tick(TV, AAPL, 101.0, T0 + 5) == []
    assert _triggered(book.on_tick(TV, AAPL, 101.0, T0 + 10)) == ["r"]


def test_a_rule_that_is_done_leaves_the_index():
    book = _book(crosses(100, "r", one_time=True))
    book.on_tick(TV, AAPL, 99.0, T0)
    book.on_tick(TV, AAPL, 101.0, T0 + 1)
    assert book.on_tick(TV, AAPL, 99.0, T0 + 2) == [] and book.get("r").status is AlertStatus.DONE


def test_a_disabled_rule_is_held_but_not_evaluated_until_enabled():
    book = _book(rule({"kind": "price_above", "level": 100.0}, id="r"))
    book.on_tick(TV, AAPL, 99.0, T0)
    book.replace(book.get("r").disable())
    assert book.on_tick(TV, AAPL, 101.0, T0 + 1) == []
    book.replace(book.get("r").enable(now=T0 + 2))
    assert _triggered(book.on_tick(TV, AAPL, 101.5, T0 + 3)) == ["r"]


def test_replacing_a_rule_with_a_new_level_moves_it_in_the_index():
    book = _book(crosses(100, "r"))
    book.on_tick(TV, AAPL, 99.0, T0)
    book.replace(book.get("r").revise(condition=crosses(200, "r").condition))
    book.on_tick(TV, AAPL, 150.0, T0 + 1)
    assert book.on_tick(TV, AAPL, 99.0, T0 + 2) == []
    assert _triggered(book.on_tick(TV, AAPL, 201.0, T0 + 3)) == ["r"]


def test_adding_a_held_id_or_touching_an_unknown_one_is_refused():
    book = _book(crosses(100, "r"))
    with pytest.raises(DuplicateAlertRule):
        book.add(crosses(50, "r"))
    with pytest.raises(UnknownAlertRule):
        book.remove("nope")
    with pytest.raises(UnknownAlertRule):
        book.replace(crosses(50, "nope"))


def test_a_removed_rule_is_no_longer_evaluated():
    book = _book(crosses(100, "r"), crosses(100, "s"))
    book.on_tick(TV, AAPL, 99.0, T0)
    assert book.remove("r").id == "r" and "r" not in book and len(book) == 1
    assert _triggered(book.on_tick(TV, AAPL, 101.0, T0 + 1)) == ["s"]


def test_a_symbol_whose_rules_are_all_gone_leaves_no_trace_and_new_rules_start_afresh():
    book = _book(crosses(100, "r"))
    book.on_tick(TV, AAPL, 99.0, T0 + 10)
    book.remove("r")
    book.add(rule({"kind": "price_above", "level": 100.0}, id="s"))
    assert _triggered(book.on_tick(TV, AAPL, 101.0, T0 + 5)) == ["s"]  # no latest tick time remembered


def test_advance_time_expires_due_rules_and_they_leave_the_index():
    book = _book(crosses(100, "r", expires_at=T0 + 60), crosses(100, "s"))
    book.on_tick(TV, AAPL, 99.0, T0)
    changes = book.advance_time(T0 + 60)
    assert [(c.rule.id, c.rule.status) for c in changes] == [("r", AlertStatus.EXPIRED)]
    assert _triggered(book.on_tick(TV, AAPL, 101.0, T0 + 61)) == ["s"]


# --- closed bars ---------------------------------------------------------------------------------------


def test_bar_rules_are_evaluated_on_closed_bars_of_their_series_only():
    rsi = rule({"kind": "rsi_above", "level": 70}, id="rsi", interval=Interval.M1)
    hourly = rule({"kind": "price_crosses_ma", "average": "sma", "period": 50}, id="ma", interval=Interval.H1)
    book = _book(rsi, hourly)
    bar = minute_bar(T0, 10.0)
    assert book.indicator_specs(TV, AAPL, Interval.M1) == {"rsi:14"}
    assert book.indicator_specs(TV, AAPL, Interval.H1) == {"sma:50"}
    assert book.on_bar_closed(TV, MSFT, bar, {"rsi_14": 80.0}, now=T0 + 60) == []
    assert _triggered(book.on_bar_closed(TV, AAPL, bar, {"rsi_14": 80.0}, now=T0 + 60)) == ["rsi"]
    assert book.on_tick(TV, AAPL, 10.0, T0 + 61) == []


# --- backfill after an outage --------------------------------------------------------------------------


def _bar(time, open, high, low, close):
    return OHLCVBar(Interval.M1, time, open, high, low, close, 1.0)


def test_a_crossing_inside_an_outage_fires_once_late_from_the_backfilled_bars():
    book = _book(rule({"kind": "price_crosses", "level": 100, "direction": "up"}, id="r"))
    book.on_tick(TV, AAPL, 99.0, T0 + 5)  # then the connection drops
    now = T0 + 600
    bars = [_bar(T0, 99.0, 99.5, 98.0, 99.0), _bar(T0 + 60, 99.0, 101.0, 98.5, 99.2)]
    changes = book.on_backfill(TV, AAPL, bars, now)
    events = [e for change in changes for e in change.events]
    # The second bar closed up: low (98.5) then high (101.0), then back under the level at its close.
    assert [(e.late, e.triggered_at, e.bar_time, e.values["price"]) for e in events] == [
        (True, T0 + 60, T0 + 60, 101.0)]
    assert book.on_backfill(TV, AAPL, bars, now) == []  # backfilled twice: nothing new
    assert book.on_tick(TV, AAPL, 99.3, now) == []
    (live,) = [e for change in book.on_tick(TV, AAPL, 101.0, now + 1) for e in change.events]
    assert not live.late


def test_backfilled_bars_do_not_fire_again_what_was_seen_live():
    book = _book(crosses(100, "r"))
    book.on_tick(TV, AAPL, 99.0, T0 + 1)
    assert _triggered(book.on_tick(TV, AAPL, 101.0, T0 + 30)) == ["r"]
    bars = [_bar(T0, 99.0, 101.0, 99.0, 101.0), _bar(T0 + 60, 101.0, 101.5, 100.5, 101.2)]
    assert book.on_backfill(TV, AAPL, bars, now=T0 + 300) == []
