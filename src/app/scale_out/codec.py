"""The one codec of the messages processes exchange: every type an entry of a stream may hold."""

from src.app.scale_out.collector import SubscriptionRecord
from src.app.scale_out.events import BRIDGED_EVENTS
from src.domain.market_data import Instrument, Interval, OHLCVBar, QuoteTick, SeriesKey, Symbol
from src.domain.realtime.aggregator import BarUpdate
from src.features.quotes.messages import (
    ReleaseQuotesCommand,
    SetBarIntervalsCommand,
    StartQuotesCommand,
    StopQuotesCommand,
    SubscribeQuotesCommand,
    UnsubscribeQuotesCommand,
)
from src.features.quotes.service import QuoteStatus, SymbolQuoteStatus
from src.infrastructure.streams.codec import DataclassCodec

VALUES = (Symbol, Interval, Instrument, SeriesKey, OHLCVBar, QuoteTick, BarUpdate)
LIVE = (QuoteStatus, SymbolQuoteStatus, SubscriptionRecord)
COMMANDS = (StartQuotesCommand, StopQuotesCommand, SubscribeQuotesCommand, UnsubscribeQuotesCommand,
            ReleaseQuotesCommand, SetBarIntervalsCommand)


def message_codec() -> DataclassCodec:
    return DataclassCodec((*VALUES, *LIVE, *COMMANDS, *BRIDGED_EVENTS))
