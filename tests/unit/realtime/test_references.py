"""Rules of `SubscriptionReferences`, one test each, and a property against a straightforward model."""

from hypothesis import given
from hypothesis import strategies as st

from src.domain.market_data import Instrument, Symbol
from src.domain.realtime.references import API_HOLDER, SubscriptionReferences

BTC, ETH, SOL = (Instrument("tradingview", Symbol("BINANCE", code)) for code in ("BTCUSDT", "ETHUSDT", "SOLUSDT"))


def test_a_holder_holds_an_instrument_at_most_once():
    refs = SubscriptionReferences()
    assert refs.take("ws:1", [BTC, BTC]) == [BTC]
    assert refs.take("ws:1", [BTC]) == []
    assert refs.holders(BTC) == 1
    assert refs.release("ws:1", [BTC]) == [BTC]


def test_upstream_follows_the_references_first_taker_and_last_releaser():
    refs = SubscriptionReferences()
    assert refs.take(API_HOLDER, [BTC, ETH]) == [BTC, ETH]
    assert refs.take("ws:1", [ETH, SOL]) == [SOL]
    assert refs.release(API_HOLDER, [BTC, ETH]) == [BTC]  # ETH is still held by the WebSocket client
    assert refs.referenced(ETH) and not refs.referenced(BTC)
    assert refs.release_all("ws:1") == [ETH, SOL]
    assert not refs.referenced(ETH) and refs.held_by("ws:1") == frozenset()


def test_releasing_what_is_not_held_changes_nothing():
    refs = SubscriptionReferences()
    refs.take("ws:1", [BTC])
    assert refs.release("ws:2", [BTC]) == []
    assert refs.release_all("ws:3") == []
    assert refs.release("ws:1", [BTC]) == [BTC]
    assert refs.release("ws:1", [BTC]) == []  # a repeated release is harmless
    assert not refs.referenced(BTC)


HOLDERS = st.sampled_from([API_HOLDER, "ws:1", "ws:2", "ws:3"])
SUBSETS = st.lists(st.sampled_from([BTC, ETH, SOL]), max_size=3)
OPERATIONS = st.lists(st.tuples(st.sampled_from(["take", "release", "release_all"]), HOLDERS, SUBSETS), max_size=40)


@given(OPERATIONS)
def test_an_instrument_is_referenced_exactly_while_some_holder_holds_it(operations):
    refs, model, upstream = SubscriptionReferences(), {}, set()
    for operation, holder, instruments in operations:
        if operation == "take":
            upstream |= set(refs.take(holder, instruments))
            model.setdefault(holder, set()).update(instruments)
        else:
            released = set(model.get(holder, set())) if operation == "release_all" else set(instruments)
            gone = refs.release_all(holder) if operation == "release_all" else refs.release(holder, instruments)
            model[holder] = model.get(holder, set()) - released
            upstream -= set(gone)
        held = set().union(*model.values()) if model else set()
        assert upstream == held
        assert all(refs.referenced(i) == (i in held) for i in (BTC, ETH, SOL))
        assert all(refs.holders(i) == sum(i in s for s in model.values()) for i in (BTC, ETH, SOL))
