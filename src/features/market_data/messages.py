"""Commands and Queries of the market-data slice: plain immutable requests built by the routes."""

from dataclasses import dataclass
from enum import StrEnum

from src.domain.market_data import Instrument, Interval, SeriesKey
from src.domain.sync.status import SyncStatus

DEFAULT_SYNC_BARS = 5_000


@dataclass(frozen=True, slots=True)
class SyncSymbolCommand:
    """Make the series hold the newest `n_bars` bars its source has (fetching only what is missing, plus the
    overlap that refreshes the forming bar); with `refresh`, re-fetch the whole window. Returns a SyncResult."""

    key: SeriesKey
    n_bars: int = DEFAULT_SYNC_BARS
    refresh: bool = False


@dataclass(frozen=True, slots=True)
class StartBackgroundSyncCommand:
    """Start (or join) a sync that outlives the request; returns the SyncState to poll."""

    key: SeriesKey
    n_bars: int = DEFAULT_SYNC_BARS
    refresh: bool = False


@dataclass(frozen=True, slots=True)
class BulkSyncCommand:
    items: tuple[SyncSymbolCommand, ...]


@dataclass(frozen=True, slots=True)
class TrackSymbolCommand:
    """Track the symbol's intervals; `extended_hours` chooses the session its series follow (None: unchanged)."""

    instrument: Instrument
    intervals: tuple[Interval, ...]
    extended_hours: bool | None = None


@dataclass(frozen=True, slots=True)
class UntrackSymbolCommand:
    instrument: Instrument
    intervals: tuple[Interval, ...] = ()  # empty: every interval


class BarsFormat(StrEnum):
    JSON = "json"  # rows
    JSON_COLUMNS = "json-columns"  # `format=json&layout=columns`
    CSV = "csv"
    ARROW = "arrow"
    PARQUET = "parquet"


@dataclass(frozen=True, slots=True)
class GetBarsQuery:
    """One page of a series: at most `limit` bars within [start, end] (inclusive, epoch seconds), taken from
    the newest end, or from the oldest with `oldest_first`; output newest first with `descending`.
    `resample_from` builds the page from that finer stored interval; `auto_resample` picks one when the
    asked interval is not stored. `exclude_flagged` leaves out the bars that open or confirmed quality flags cover
(of the series read: the finer one when resampling). The result is a `BarsPage`."""

    key: SeriesKey
    limit: int
    start: int | None = None
    end: int | None = None
    descending: bool = False
    format: BarsFormat = BarsFormat.JSON
    oldest_first: bool = False
    resample_from: Interval | None = None
    auto_resample: bool = True
    exclude_flagged: bool = False  # leave out the bars open or confirmed quality flags cover
    url: str = ""  # this page's address without a cursor; the next page's is it plus `&after=` or `&before=`


@dataclass(frozen=True, slots=True)
class ListSymbolsQuery:
    active_only: bool = True


@dataclass(frozen=True, slots=True)
class GetSymbolMetadataQuery:
    """What the source says of an instrument's trading hours (fetched when none is stored, or with `refresh`)."""

    instrument: Instrument
    refresh: bool = False


@dataclass(frozen=True, slots=True)
class SearchSymbolsQuery:
    text: str
    exchange: str | None = None
    source: str | None = None  # None: every registered source


@dataclass(frozen=True, slots=True)
class GetSyncStatusQuery:
    source: str | None = None
    exchange: str | None = None
    symbol: str | None = None
    interval: Interval | None = None
    status: SyncStatus | None = None
