"""HTTP request and response bodies of the quotes slice (pydantic), kept apart from the Commands."""

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from src.common.time_format import iso_utc_or_none
from src.domain.market_data import Instrument, Interval, Symbol
from src.features.quotes.service import QuoteStatus
from src.features.shared.fields import DEFAULT_SOURCE, TICKER_PATTERN, IntervalCode, SourceId


def _symbol(value: str) -> str:
    return Symbol.parse(value).ticker  # raises with a message naming the expected form


Ticker = Annotated[str, AfterValidator(_symbol), Field(pattern=TICKER_PATTERN, examples=["BINANCE:BTCUSDT"])]


class SymbolsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: SourceId = DEFAULT_SOURCE
    symbols: list[Ticker] = Field(min_length=1, max_length=500)

    def parsed(self) -> tuple[Instrument, ...]:
        return tuple(Instrument(self.source, Symbol.parse(s)) for s in self.symbols)


class StartRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: SourceId = DEFAULT_SOURCE
    symbols: list[Ticker] = Field(default_factory=list, max_length=500)

    def parsed(self) -> tuple[Instrument, ...]:
        return tuple(Instrument(self.source, Symbol.parse(s)) for s in self.symbols)


class SubscribeRequest(SymbolsRequest):
    intervals: list[IntervalCode] = Field(default_factory=list, max_length=len(Interval))

    def parsed_intervals(self) -> tuple[Interval, ...]:
        return tuple(Interval.parse(i) for i in self.intervals)


class IntervalsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    intervals: list[IntervalCode] = Field(min_length=1, max_length=len(Interval))

    def parsed(self) -> tuple[Interval, ...]:
        return tuple(Interval.parse(i) for i in self.intervals)


class SubscriptionBody(BaseModel):
    source: str
    symbol: str  # EXCHANGE:CODE


class SubscriptionsBody(BaseModel):
    """Every symbol subscribed now, of every source."""

    subscriptions: list[SubscriptionBody]

    @classmethod
    def of(cls, instruments: list[Instrument]) -> "SubscriptionsBody":
        return cls(subscriptions=[SubscriptionBody(source=i.source, symbol=i.symbol.ticker) for i in instruments])


class QuoteBody(BaseModel):
    """A live quote (`payloads.quote_payload`)."""

    type: Literal["quote"]
    source: str
    symbol: str  # EXCHANGE:CODE
    time: str  # ISO 8601 UTC
    timestamp: float  # epoch seconds
    price: float
    volume: float | None  # the session's cumulative volume
    bid: float | None
    ask: float | None
    change: float | None
    change_percent: float | None


class LiveBarBody(BaseModel):
    """A forming (or just closed) live bar (`payloads.bar_payload`)."""

    type: Literal["bar"]
    source: str
    symbol: str
    interval: str
    closed: bool
    time: str
    timestamp: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    partial: bool


class IntervalsBody(BaseModel):
    intervals: list[str]


class SymbolStatusBody(BaseModel):
    source: str
    symbol: str
    last_tick_time: str | None
    last_received_at: str | None
    ticks: int
    stale_ticks: int
    out_of_session_ticks: int = Field(default=0, description="ticks outside the symbol's trading sessions: in no bar")
    holders: int = 0  # the REST API and the WebSocket connections holding the subscription


class QuoteStatusBody(BaseModel):
    running: bool
    connected: bool
    reconnect_count: int
    intervals: list[str]
    symbols: list[SymbolStatusBody]
    ticks_received: int
    stale_ticks_total: int
    bars_written: int
    bars_skipped: int
    bars_dropped: int
    bars_pending: int
    cache_writes: int
    bars_seeded: int
    bars_backfilled: int
    catch_ups_failed: int
    out_of_session_ticks_total: int = 0
    bars_settled: int = 0

    @classmethod
    def of(cls, status: QuoteStatus) -> "QuoteStatusBody":
        return cls(
            running=status.running, connected=status.connected, reconnect_count=status.reconnect_count,
            intervals=[i.code for i in status.intervals],
            symbols=[
                SymbolStatusBody(source=s.instrument.source, symbol=s.instrument.symbol.ticker,
                                 last_tick_time=iso_utc_or_none(s.last_tick_time),
                                 last_received_at=iso_utc_or_none(s.last_received_at), ticks=s.ticks,
                                 stale_ticks=s.stale_ticks, out_of_session_ticks=s.out_of_session_ticks,
                                 holders=s.holders)
                for s in status.symbols
            ],
            ticks_received=status.ticks_received, stale_ticks_total=status.stale_ticks_total,
            bars_written=status.bars_written, bars_skipped=status.bars_skipped,
            bars_dropped=status.bars_dropped, bars_pending=status.bars_pending,
            cache_writes=status.cache_writes,
            bars_seeded=status.bars_seeded,
            bars_backfilled=status.bars_backfilled,
            catch_ups_failed=status.catch_ups_failed,
            out_of_session_ticks_total=status.out_of_session_ticks_total,
            bars_settled=status.bars_settled,
        )
