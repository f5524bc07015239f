"""HTTP routes of the market-data slice: each builds a Command or Query and sends it to the Mediator."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from src.common.errors import NotFound
from src.domain.market_data import Instrument, Interval, SeriesKey, Symbol
from src.domain.sync.status import SyncStatus
from src.features.market_data.bar_pages import BarsPage
from src.features.market_data.messages import (
    BulkSyncCommand,
    GetSymbolMetadataQuery,
    GetSyncStatusQuery,
    ListSymbolsQuery,
    SearchSymbolsQuery,
    StartBackgroundSyncCommand,
    SyncSymbolCommand,
    TrackSymbolCommand,
    UntrackSymbolCommand,
)
from src.features.market_data.schemas import (
    BarColumnsBody,
    BarsBody,
    BulkItemBody,
    BulkSyncRequest,
    OhlcvParams,
    SymbolMatchBody,
    SymbolMetadataBody,
    SyncRequest,
    SyncResponse,
    SyncStatusBody,
    TrackedSymbolBody,
    TrackRequest,
)
from src.features.shared.dependencies import MediatorDep, mediator_of
from src.features.shared.fields import (
    DEFAULT_SOURCE,
    ExchangeCode,
    ExchangePath,
    IntervalCode,
    IntervalPath,
    SourceId,
    SymbolCode,
    SymbolPath,
)
from src.features.shared.query_models import openapi_parameters, parse_query

router = APIRouter(prefix="/api/v1/market-data", tags=["market data"])


def _status_url(key: SeriesKey) -> str:
    path = f"/api/v1/market-data/sync-status/{key.symbol.exchange}/{key.symbol.code}/{key.interval.code}"
    return f"{path}?source={key.source}"


UPSTREAM_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "the source does not know the symbol"}, 502: {"description": "the source refused"},
}


@router.post("/sync", responses=UPSTREAM_ERRORS)
async def sync(body: SyncRequest, mediator: MediatorDep) -> SyncResponse:
    """Make the series hold the newest `n_bars` bars its source has: fetches what is missing (newer, older,
    holes) plus the forming bar; `refresh` re-fetches the whole window."""
    result = await mediator.send(SyncSymbolCommand(body.series_key(), body.n_bars, body.refresh))
    return SyncResponse.of(result)


@router.post("/sync/background", status_code=status.HTTP_202_ACCEPTED, responses=UPSTREAM_ERRORS)
async def sync_background(body: SyncRequest, mediator: MediatorDep, response: Response) -> SyncStatusBody:
    """Start a sync that outlives the request (or join the running one); poll the Location."""
    key = body.series_key()
    state = await mediator.send(StartBackgroundSyncCommand(key, body.n_bars, body.refresh))
    response.headers["Location"] = _status_url(key)
    return SyncStatusBody.of(state)


@router.post("/sync/bulk")
async def sync_bulk(body: BulkSyncRequest, mediator: MediatorDep) -> list[BulkItemBody]:
    """Many series at once, concurrently within the configured bound; one failure never stops the rest."""
    commands = tuple(SyncSymbolCommand(item.series_key(), item.n_bars, item.refresh) for item in body.items)
    results = await mediator.send(BulkSyncCommand(commands))
    return [
        BulkItemBody(
            source=r.command.key.source, exchange=r.command.key.symbol.exchange, symbol=r.command.key.symbol.code,
            interval=r.command.key.interval.code, ok=r.error is None,
            result=SyncResponse.of(r.result) if r.result else None,
            error=str(r.error) if r.error else None,
            error_type=type(r.error).__name__ if r.error else None,
        )
        for r in results
    ]


@router.get(
    "/ohlcv/{exchange}/{symbol}",
    response_class=Response,
    openapi_extra=openapi_parameters(OhlcvParams),
    responses={
        200: {"model": BarsBody | BarColumnsBody, "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/vnd.apache.arrow.stream": {"schema": {"type": "string", "format": "binary"}},
            "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}},
        }},
        404: {"description": "no bars are stored for this series (nor, asked to resample, a finer interval)"},
    },
)
async def ohlcv(exchange: ExchangePath, symbol: SymbolPath, request: Request) -> Response:
    """A page of stored bars (newest `limit` within [start, end], or paged by `after`/`before`), as JSON rows or
    columns, CSV, Arrow or Parquet; built from a finer interval when asked or when this one is not stored."""
    params = parse_query(OhlcvParams, request)  # the hottest route: one validation for all parameters
    key = SeriesKey(Symbol(exchange, symbol), Interval.parse(params.interval), params.source)
    page = await mediator_of(request).send(params.query(key, request.url.path))
    headers = _page_headers(key, page)
    if page.body is not None:
        return Response(page.body, media_type=page.media_type, headers=headers)
    assert page.chunks is not None
    return StreamingResponse(page.chunks, media_type=page.media_type, headers=headers)


def _page_headers(key: SeriesKey, page: BarsPage) -> dict[str, str]:
    headers = {}
    if page.extension != "json":
        filename = f"{key.source}_{key.symbol.exchange}_{key.symbol.code}_{key.interval.code}.{page.extension}"
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    if page.next_url:
        headers["Link"] = f'<{page.next_url}>; rel="next"'
    if page.resampled_from:
        headers["X-Resampled-From"] = page.resampled_from.code
    return headers


@router.get("/symbols")
async def list_symbols(mediator: MediatorDep, include_inactive: bool = False) -> list[TrackedSymbolBody]:
    views = await mediator.send(ListSymbolsQuery(active_only=not include_inactive))
    return [TrackedSymbolBody.of(v.tracked, v.metadata) for v in views]


@router.post("/symbols", status_code=status.HTTP_201_CREATED, responses=UPSTREAM_ERRORS)
async def track_symbol(body: TrackRequest, mediator: MediatorDep) -> TrackedSymbolBody:
    """Track the symbol's intervals (its trading hours are fetched from the source); `extended_hours` chooses
    the session its series follow. Newly tracked intervals start syncing at once, in the background."""
    intervals = tuple(Interval.parse(code) for code in body.intervals)
    instrument = Instrument(body.source, Symbol(body.exchange, body.symbol))
    view = await mediator.send(TrackSymbolCommand(instrument, intervals, body.extended_hours))
    return TrackedSymbolBody.of(view.tracked, view.metadata, view.first_syncs)


@router.get("/symbols/{exchange}/{symbol}/sessions", responses=UPSTREAM_ERRORS)
async def symbol_sessions(exchange: ExchangePath, symbol: SymbolPath, mediator: MediatorDep,
                          source: SourceId = DEFAULT_SOURCE, refresh: bool = False) -> SymbolMetadataBody:
    """The symbol's time zone, sessions, holidays and corrections as its source gives them (asked of the
    source when none are stored, or with `refresh`), and the session its series follow."""
    instrument = Instrument(source, Symbol(exchange, symbol))
    return SymbolMetadataBody.of_metadata(await mediator.send(GetSymbolMetadataQuery(instrument, refresh)))


@router.get("/symbols/search", responses={502: {"description": "a source refused"}})
async def search_symbols(
    mediator: MediatorDep,
    q: Annotated[str, Query(min_length=1, max_length=64)],
    exchange: Annotated[str | None, Query(max_length=32)] = None,
    source: Annotated[SourceId | None, Query(description="one source; all registered sources when omitted")] = None,
) -> list[SymbolMatchBody]:
    matches = await mediator.send(SearchSymbolsQuery(q, exchange, source))
    return [
        SymbolMatchBody(source=m.source, exchange=m.symbol.exchange, symbol=m.symbol.code, description=m.description,
                        type=m.type, currency=m.currency, country=m.country)
        for m in matches
    ]


@router.delete("/symbols/{exchange}/{symbol}", responses={404: {"description": "the symbol is not tracked"}})
async def untrack_symbol(
    exchange: ExchangePath, symbol: SymbolPath, mediator: MediatorDep,
    intervals: Annotated[list[IntervalCode] | None, Query()] = None,
    source: SourceId = DEFAULT_SOURCE,
) -> TrackedSymbolBody:
    """Untrack the given intervals, or the whole symbol when none are given."""
    instrument = Instrument(source, Symbol(exchange, symbol))
    command = UntrackSymbolCommand(instrument, tuple(Interval.parse(i) for i in intervals or ()))
    return TrackedSymbolBody.of(await mediator.send(command))


@router.get("/sync-status")
async def sync_statuses(
    mediator: MediatorDep,
    source: SourceId | None = None,
    exchange: ExchangeCode | None = None,
    symbol: SymbolCode | None = None,
    interval: IntervalCode | None = None,
    status: SyncStatus | None = None,
) -> list[SyncStatusBody]:
    query = GetSyncStatusQuery(
        source, exchange.upper() if exchange else None, symbol.upper() if symbol else None,
        Interval.parse(interval) if interval else None, status,
    )
    return [SyncStatusBody.of(v.state, v.coverage) for v in await mediator.send(query)]


@router.get("/sync-status/{exchange}/{symbol}/{interval}", responses={404: {"description": "no sync recorded"}})
async def sync_status(
    exchange: ExchangePath, symbol: SymbolPath, interval: IntervalPath, mediator: MediatorDep,
    source: SourceId = DEFAULT_SOURCE,
) -> SyncStatusBody:
    key = SeriesKey(Symbol(exchange, symbol), Interval.parse(interval), source)
    query = GetSyncStatusQuery(key.source, key.symbol.exchange, key.symbol.code, key.interval)
    views = await mediator.send(query)
    if not views:
        raise NotFound(f"no sync recorded for {key}", field="symbol")
    return SyncStatusBody.of(views[0].state, views[0].coverage)
