"""HTTP request and response bodies of the market-data slice (pydantic), kept apart from Commands."""

from datetime import datetime
from typing import Literal
from urllib.parse import quote, urlencode

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from src.common.ports import SeriesCoverage, TrackedSymbol
from src.common.time_format import iso_utc, iso_utc_or_none
from src.domain.market_data import Interval, SeriesKey, Symbol
from src.domain.market_data.trading_hours import SymbolMetadata
from src.domain.sync.status import SyncState
from src.features.market_data.messages import DEFAULT_SYNC_BARS, BarsFormat, GetBarsQuery
from src.features.market_data.series_sync import SyncResult
from src.features.shared.fields import DEFAULT_SOURCE, Count, ExchangeCode, IntervalCode, SourceId, SymbolCode
from src.features.shared.windows import counts_from_start, epoch_seconds

MAX_SYNC_BARS = 100_000
DEFAULT_PAGE_BARS = 1_000
# The most bars one page of GET /ohlcv holds, per format: rows of JSON are the heaviest to build and parse.
MAX_PAGE_BARS = {
    BarsFormat.JSON: 1_000_000, BarsFormat.JSON_COLUMNS: 2_000_000, BarsFormat.CSV: 2_000_000,
    BarsFormat.ARROW: 5_000_000, BarsFormat.PARQUET: 5_000_000,
}


class SeriesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: SourceId = DEFAULT_SOURCE
    exchange: ExchangeCode
    symbol: SymbolCode
    interval: IntervalCode

    def series_key(self) -> SeriesKey:
        return SeriesKey(Symbol(self.exchange, self.symbol), Interval.parse(self.interval), self.source)


class SyncRequest(SeriesRequest):
    n_bars: Count = Field(default=DEFAULT_SYNC_BARS, ge=1, le=MAX_SYNC_BARS,
                          description="after the sync the series holds the newest n_bars bars the source has")
    refresh: bool = Field(default=False, description="re-fetch the whole window even where bars are stored")


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
    bars_rejected: int = Field(default=0, description="the source's bars at no bar open of the symbol's trading "
                                                      "calendar: not stored, never moved")
    rejection: str | None = Field(default=None, description="why the first rejected bar was rejected")
    bars_removed: int = Field(default=0, description="stored bars at no bar open of the calendar deleted by a repair")

    @classmethod
    def of(cls, result: SyncResult) -> "SyncResponse":
        key = result.key
        return cls(
            source=key.source, exchange=key.symbol.exchange, symbol=key.symbol.code, interval=key.interval.code,
            status=result.status, bars_fetched=result.bars_fetched, bars_written=result.bars_written,
            first_bar_time=iso_utc_or_none(result.first_bar_time), last_bar_time=iso_utc_or_none(result.last_bar_time),
            bars_rejected=result.bars_rejected, rejection=result.rejection, bars_removed=result.bars_removed,
        )


class CoverageBody(BaseModel):
    first_bar_time: str | None
    last_bar_time: str | None
    bar_count: int
    missing_bars: int
    gaps: list[tuple[str, str]]
    misplaced_bars: int = Field(default=0, description="bars stored at no bar open of the symbol's trading calendar "
                                                       "(e.g. stamped on the UTC grid by an older version): repair "
                                                       "with a sync with refresh: true")

    @classmethod
    def of(cls, c: SeriesCoverage) -> "CoverageBody":
        return cls(
            first_bar_time=iso_utc_or_none(c.first_bar_time), last_bar_time=iso_utc_or_none(c.last_bar_time),
            bar_count=c.bar_count, missing_bars=c.missing_bars, gaps=[(iso_utc(a), iso_utc(b)) for a, b in c.gaps],
            misplaced_bars=c.misplaced_bars,
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
    owner: str | None = Field(default=None, description="the process running (or that ran) the sync")
    lease_until: str | None = Field(default=None, description="a running sync's lease; past it, it may be taken over")
    coverage: CoverageBody | None = None

    @classmethod
    def of(cls, s: SyncState, coverage: SeriesCoverage | None = None) -> "SyncStatusBody":
        return cls(
            source=s.key.source, exchange=s.key.symbol.exchange, symbol=s.key.symbol.code, interval=s.key.interval.code,
            status=s.status, requested_at=iso_utc_or_none(s.requested_at), started_at=iso_utc_or_none(s.started_at),
            finished_at=iso_utc_or_none(s.finished_at), bars_written=s.bars_written, error=s.error, owner=s.owner,
            lease_until=iso_utc_or_none(s.lease_until), coverage=CoverageBody.of(coverage) if coverage else None,
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
    extended_hours: bool | None = Field(
        default=None, description="follow the extended-hours session (pre- and post-market) in history, live bars "
                                  "and coverage, when the source has one; omitted: keep the current choice")


class SessionsBody(BaseModel):
    """What the source says of the symbol's trading hours, in TradingView's session syntax."""

    timezone: str
    session: str
    session_holidays: str
    session_correction: str
    extended_session: str | None
    extended_hours: bool = Field(description="the user's choice of extended hours")
    follows: Literal["regular", "extended"] = Field(description="the session every series of the symbol follows")
    delay: int
    type: str
    currency: str
    description: str
    refreshed_at: str | None

    @classmethod
    def of(cls, m: SymbolMetadata) -> "SessionsBody":
        return cls(
            timezone=m.timezone or "UTC", session=m.regular.session, session_holidays=m.regular.holidays,
            session_correction=m.regular.corrections, extended_session=m.extended.session if m.extended else None,
            extended_hours=m.extended_hours, follows="extended" if m.follows_extended else "regular", delay=m.delay,
            type=m.type, currency=m.currency, description=m.description, refreshed_at=iso_utc_or_none(m.refreshed_at),
        )


class SymbolMetadataBody(SessionsBody):
    source: str
    exchange: str
    symbol: str

    @classmethod
    def of_metadata(cls, m: SymbolMetadata) -> "SymbolMetadataBody":
        symbol = m.instrument.symbol
        return cls(source=m.instrument.source, exchange=symbol.exchange, symbol=symbol.code,
                   **SessionsBody.of(m).model_dump())


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
    sessions: SessionsBody | None = Field(default=None, description="the symbol's trading hours, once fetched")
    first_syncs: list[SyncStatusBody] = Field(
        default=[], description="tracking: the background syncs started for the newly tracked intervals (poll "
        "`/api/v1/market-data/sync-status/{exchange}/{symbol}/{interval}` for their progress)")

    @classmethod
    def of(cls, t: TrackedSymbol, metadata: SymbolMetadata | None = None,
           first_syncs: tuple[SyncState, ...] = ()) -> "TrackedSymbolBody":
        return cls(
            source=t.source, exchange=t.symbol.exchange, symbol=t.symbol.code, description=t.description, type=t.type,
            currency=t.currency, active=t.active, intervals=[i.code for i in t.intervals],
            created_at=iso_utc_or_none(t.created_at), updated_at=iso_utc_or_none(t.updated_at),
            sessions=SessionsBody.of(metadata) if metadata is not None else None,
            first_syncs=[SyncStatusBody.of(state) for state in first_syncs],
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
    """`GET /ohlcv` as JSON rows (`serialization`, `layout=rows`, the default)."""

    source: str
    exchange: str
    symbol: str
    interval: str
    bars: list[BarRowBody]
    count: int
    next: str | None = Field(description="the next page's URL (also in the `Link` header), null on the last")


class BarColumnsBody(BaseModel):
    """`GET /ohlcv` as JSON columns (`layout=columns`): epoch seconds, one array per field."""

    source: str
    exchange: str
    symbol: str
    interval: str
    layout: Literal["columns"]
    columns: dict[str, list[float | int | bool]]
    count: int
    next: str | None


class OhlcvParams(BaseModel):
    """Query of `GET /ohlcv/{exchange}/{symbol}`: every parameter it takes, declared here only."""

    model_config = ConfigDict(extra="ignore")

    source: str = Field(default=DEFAULT_SOURCE, pattern=r"^[a-z][a-z0-9_]{0,31}$", description="data source")
    interval: IntervalCode = Field(default="1d", description="bar interval, e.g. 1m, 1h, 1d, 1M")
    start: datetime | None = Field(default=None, description="ISO 8601 or epoch seconds, inclusive")
    end: datetime | None = Field(default=None, description="ISO 8601 or epoch seconds, inclusive")
    after: datetime | None = Field(default=None, description="cursor: the page after this bar time (oldest first)")
    before: datetime | None = Field(default=None, description="cursor: the page before this bar time (newest first)")
    order: Literal["asc", "desc"] = "asc"
    format: Literal["json", "csv", "arrow", "parquet"] = "json"
    layout: Literal["rows", "columns"] = Field(default="rows", description="json only: rows, or compact columns")
    # after `format` and `layout`: the cap of `limit` depends on them, and its 422 names `limit`
    limit: int | None = Field(
        default=None, ge=1, le=max(MAX_PAGE_BARS.values()),
        description="bars per page (1,000 without a range; up to the format's maximum, its default with a range)",
    )
    resample_from: IntervalCode | None = Field(default=None, description="build the bars from this stored interval")
    exclude_flagged: bool = Field(default=False, description="leave out bars with an open or confirmed quality flag")

    @model_validator(mode="after")
    def _consistent(self) -> "OhlcvParams":
        if self.after is not None and self.before is not None:
            raise ValueError("give at most one of after and before")
        if self.layout == "columns" and self.format != "json":
            raise ValueError("layout=columns is a json layout")
        return self

    @field_validator("limit")
    @classmethod
    def _within_format_cap(cls, limit: int | None, info: ValidationInfo) -> int | None:
        if limit is None or "format" not in info.data or "layout" not in info.data:
            return limit  # no limit, or the format is itself invalid (and named)
        cap = MAX_PAGE_BARS[_bars_format(info.data["format"], info.data["layout"])]
        if limit > cap:
            raise ValueError(f"limit is at most {cap:,} for this format")
        return limit

    @property
    def bars_format(self) -> BarsFormat:
        return _bars_format(self.format, self.layout)

    def query(self, key: SeriesKey, path: str) -> GetBarsQuery:
        """Cursors become bounds: `after=T` pages forward from T (exclusive), `before=T` backward; without a
        cursor, a page counts from `start` when one is given, else from the newest bar."""
        start, end = epoch_seconds(self.start), epoch_seconds(self.end)
        if self.after is not None:
            start = max(start or 0, epoch_seconds(self.after) + 1)  # type: ignore[operator]
        if self.before is not None:
            before = epoch_seconds(self.before) - 1  # type: ignore[operator]
            end = before if end is None else min(end, before)
        oldest_first = counts_from_start(self.start, after=self.after, before=self.before)
        ranged = self.start is not None or self.end is not None or self.after is not None or self.before is not None
        limit = self.limit or (MAX_PAGE_BARS[self.bars_format] if ranged else DEFAULT_PAGE_BARS)
        resample_from = Interval.parse(self.resample_from) if self.resample_from else None
        return GetBarsQuery(key, limit, start, end, self.order == "desc", self.bars_format, oldest_first,
                            resample_from, exclude_flagged=self.exclude_flagged, url=self._url(path, limit))

    def _url(self, path: str, limit: int) -> str:
        """This page's address without its cursor, every parameter spelled out."""
        params = {"source": self.source, "interval": self.interval, "limit": limit,
                  "start": epoch_seconds(self.start), "end": epoch_seconds(self.end), "order": self.order,
                  "format": self.format,
                  "layout": self.layout if self.layout != "rows" else None, "resample_from": self.resample_from,
                  "exclude_flagged": "true" if self.exclude_flagged else None}
        # `path` is decoded (`/ohlcv/YAHOO/^GSPC`): a link must carry it percent-encoded, as its query values
        return f"{quote(path, safe='/')}?{urlencode({k: v for k, v in params.items() if v is not None})}"


def _bars_format(form: str, layout: str) -> BarsFormat:
    return BarsFormat.JSON_COLUMNS if layout == "columns" else BarsFormat(form)

