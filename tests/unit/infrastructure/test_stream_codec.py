"""The codec of messages between processes: every type a stream carries comes back equal, and an entry
naming a type the codec was not built for is refused."""

import pytest

from src.app.scale_out.codec import message_codec
from src.app.scale_out.collector import SubscriptionRecord
from src.app.scale_out.live import quote_entry, quote_from_entry
from src.domain.alerts.events import AlertTriggeredEvent
from src.domain.events import BarCompletedEvent, BarSyncedEvent
from src.domain.market_data import Instrument, Interval, OHLCVBar, QuoteTick, SeriesKey, Symbol
from src.domain.realtime.aggregator import BarUpdate
from src.features.quotes.messages import SubscribeQuotesCommand
from src.features.quotes.service import QuoteStatus, SymbolQuoteStatus
from src.infrastructure.streams.codec import DataclassCodec, UnknownMessageType

BTC = Symbol("BINANCE", "BTCUSDT")
KEY = SeriesKey(BTC, Interval.M5, "tradingview")
BAR = OHLCVBar(Interval.M5, 1_700_000_100, 1.0, 2.0, 0.5, 1.5, 10.0, partial=True)
INSTRUMENT = Instrument("tradingview", BTC)

MESSAGES = [
    BarCompletedEvent(occurred_at=1.5, correlation_id="c1", key=KEY, bar=BAR),
    BarSyncedEvent(occurred_at=2.0, key=KEY, bars_fetched=3, bars_written=2, first_bar_time=None, last_bar_time=7),
    AlertTriggeredEvent(occurred_at=3.0, rule_id="r1", owner="alice", source="tradingview", symbol=BTC, interval=None,
                        condition_kind="price_above", condition={"level": 2.0, "nested": {"a": [1, 2]}},
                        values={"price": 2.5}, triggered_at=2.9, late=False, bar_time=None, trigger_count=1,
                        channels=("webhook", "ws"), note=""),
    (INSTRUMENT, QuoteTick(BTC, 1_700_000_101.25, 1.5, cumulative_volume=12.0, bid=1.4), (BarUpdate(INSTRUMENT, BAR,
                                                                                                   closed=False),)),
    SubscribeQuotesCommand((INSTRUMENT,), (Interval.M1, Interval.H1), holder="vm:1:ab/ws:3"),
    QuoteStatus(running=True, connected=True, reconnect_count=1, intervals=(Interval.M1,),
                symbols=(SymbolQuoteStatus(INSTRUMENT, 1.0, 2.0, 3, 0, holders=2),), ticks_received=3,
                stale_ticks_total=0, bars_written=1, bars_skipped=0, bars_dropped=0, bars_pending=0, cache_writes=4),
    SubscriptionRecord("vm:1:ab", True, (Interval.M1,), {"api": (INSTRUMENT,), "vm:2:cd/ws:1": (INSTRUMENT,)}),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
def test_every_message_a_stream_carries_comes_back_equal(message):
    codec = message_codec()
    assert codec.decode(codec.encode(message)) == message


def test_tuples_stay_tuples_so_decoded_messages_hash_like_the_originals():
    codec = message_codec()
    command = SubscribeQuotesCommand((INSTRUMENT,), (Interval.M1,))
    assert hash(codec.decode(codec.encode(command))) == hash(command)


def test_an_entry_naming_a_type_the_codec_was_not_built_for_is_refused():
    sent = message_codec().encode(BarCompletedEvent(occurred_at=1.0, key=KEY, bar=BAR))
    with pytest.raises(UnknownMessageType, match="BarCompletedEvent"):
        DataclassCodec([SeriesKey, Symbol, Interval, OHLCVBar]).decode(sent)


def test_a_quote_entry_of_the_live_stream_comes_back_equal_with_its_forming_bars():
    forming = (BarUpdate(INSTRUMENT, BAR, closed=False),
               BarUpdate(INSTRUMENT, OHLCVBar(Interval.D1, 1_699_920_000, 3.0, 4.0, 1.0, 2.0, 0.0), closed=False))
    tick = QuoteTick(BTC, 1_700_000_101.25, 1.5, cumulative_volume=None, bid=1.4, ask=1.6, change=-0.1,
                     change_percent=-6.25, delay=900.0)
    assert quote_from_entry(INSTRUMENT, quote_entry(tick, forming)) == (tick, forming)


def test_numpy_numbers_of_bars_read_from_a_frame_travel_as_plain_numbers():
    import numpy as np

    bar = OHLCVBar(Interval.M1, 1_700_000_040, np.float64(1.0), 2.0, 0.5, 1.5, np.int64(7))
    codec = message_codec()
    assert codec.decode(codec.encode(BarUpdate(INSTRUMENT, bar, closed=True))).bar.volume == 7
    tick = QuoteTick(BTC, 1_700_000_041.0, 1.5)
    assert quote_from_entry(INSTRUMENT, quote_entry(tick, [BarUpdate(INSTRUMENT, bar, closed=False)]))[1][0].bar == bar
