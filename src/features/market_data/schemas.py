"""HTTP request and response bodies of the market-data slice (pydantic), kept apart from Commands."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from src.common.ports import SeriesCoverage, TrackedSymbol
from src.common.time_format import iso_utc, iso_utc_or_none
from src.domain.market_data import Interval, SeriesKey, Symbol
from src.domain.sync.status import SyncState
from src.features.market_data.messages import DEFAULT_SYNC_BARS
from src.features.market_data.series_sync import SyncResult
from src.features.shared.fields import DEFAULT_SOURCE, Count, ExchangeCode, IntervalCode, SourceId, SymbolCode

MAX_SYNC_BARS = 100_000
MAX_QUERY_LIMIT = 100_000


class SeriesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: SourceId = DEFAULT_SOURCE
    exchange: ExchangeCode
    symbol: SymbolCode
    interval: IntervalCode

    def series_key(self) -> SeriesKey:
        return SeriesKey(Symbol(self.exchange, self.symbol), Interval.parse(self.interval), self.source)


class SyncRequest(SeriesRequest):
    n_bars: Count = Field(default=DEFAULT_SYNC_BARS, ge=1, le=MAX_SYNC_BARS)


class BulkSyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[SyncRequest] = Field(min_length=1, max_length=500)


class SyncResponse(BaseModel):
    source: str
    exchange: str
    symbol: str
    interval: str
    status: str
    bars_fetched: int
    bars_written: int
    first_bar_time: str | None
    last_bar_time: str | None

    @classmethod
    def of(cls, result: SyncResult) -> "SyncResponse":
        key = result.key
        return cls(
            source=key.source, exchange=key.symbol.exchange, symbol=key.symbol.code, interval=key.interval.code,
            status=result.status, bars_fetched=result.bars_fetched, bars_written=result.bars_written,
            first_bar_time=iso_utc_or_none(result.first_bar_time), last_bar_time=iso_utc_or_none(result.last_bar_time),
        )


class CoverageBody(BaseModel):
    first_bar_time: str | None
    last_bar_time: str | None
    bar_count: int
    missing_bars: int
    gaps: list[tuple[str, str]]

    @classmethod
    def of(cls, c: SeriesCoverage) -> "CoverageBody":
        return cls(
            first_bar_time=iso_utc_or_none(c.first_bar_time), last_bar_time=iso_utc_or_none(c.last_bar_time),
            bar_count=c.bar_count, missing_bars=c.missing_bars, gaps=[(iso_utc(a), iso_utc(b)) for a, b in c.gaps],
        )


class SyncStatusBody(BaseModel):
    source: str
    exchange: str
    symbol: str
    interval: str
    status: str
    requested_at: str | None
    started_at: str | None
    finished_at: str | None
    bars_written: int
    error: str | None
    coverage: CoverageBody | None = None

    @classmethod
    def of(cls, s: SyncState, coverage: SeriesCoverage | None = None) -> "SyncStatusBody":
        return cls(
            source=s.key.source, exchange=s.key.symbol.exchange, symbol=s.key.symbol.code, interval=s.key.interval.code,
            status=s.status, requested_at=iso_utc_or_none(s.requested_at), started_at=iso_utc_or_none(s.started_at),
            finished_at=iso_utc_or_none(s.finished_at), bars_written=s.bars_written, error=s.error,
            coverage=CoverageBody.of(coverage) if coverage else None,
        )


class BulkItemBody(BaseModel):
    source: str
    exchange: str
    symbol: str
    interval: str
    ok: bool
    result: SyncResponse | None = None
    error: str | None = None
    error_type: str | None = None


class TrackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: SourceId = DEFAULT_SOURCE
    exchange: ExchangeCode
    symbol: SymbolCode
    intervals: list[IntervalCode] = Field(default_factory=lambda: ["1d"], min_length=1, max_length=13)


class TrackedSymbolBody(BaseModel):
    source: str
    exchange: str
    symbol: str
    description: str
    type: str
    currency: str
    active: bool
    intervals: list[str]
    created_at: str | None
    updated_at: str | None

    @classmethod
    def of(cls, t: TrackedSymbol) -> "TrackedSymbolBody":
        return cls(
            source=t.source, exchange=t.symbol.exchange, symbol=t.symbol.code, description=t.description, type=t.type,
            currency=t.currency, active=t.active, intervals=[i.code for i in t.intervals],
            created_at=iso_utc_or_none(t.created_at), updated_at=iso_utc_or_none(t.updated_at),
        )


class SymbolMatchBody(BaseModel):
    source: str
    exchange: str
    symbol: str
    description: str
    type: str
    currency: str
    country: str


class BarRowBody(BaseModel):
    time: str  # ISO 8601 UTC
    timestamp: int  # epoch seconds
    open: float
    high: float
    low: float
    close: float
    volume: float
    partial: bool


class BarsBody(BaseModel):
    """`GET /ohlcv` as JSON (`serialization.bars_to_json`)."""

    source: str
    exchange: str
    symbol: str
    interval: str
    count: int
    bars: list[BarRowBody]


class OhlcvParams(BaseModel):
    """Query of `GET /ohlcv/{exchange}/{symbol}`."""

    model_config = ConfigDict(extra="ignore")

    source: str = Field(default=DEFAULT_SOURCE, pattern=r"^[a-z][a-z0-9_]{0,31}$", description="data source")
    interval: IntervalCode = Field(default="1d", description="bar interval, e.g. 1m, 1h, 1d, 1M")
    limit: int | None = Field(
        default=None, ge=1, le=MAX_QUERY_LIMIT, description="the newest N bars (1,000 without a range)"
    )
    start: datetime | None = Field(default=None, description="ISO 8601 or epoch seconds, inclusive")
    end: datetime | None = Field(default=None, description="ISO 8601 or epoch seconds, inclusive")
    order: Literal["asc", "desc"] = "asc"
    format: Literal["json", "csv"] = "json"
