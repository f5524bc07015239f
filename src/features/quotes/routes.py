"""HTTP routes of the quotes slice: each builds a Command or Query and sends it to the Mediator.
Errors (NotFound, Conflict, SymbolNotFound, domain errors) are mapped to problem+json by the HTTP edge."""

from typing import Annotated, Any

from fastapi import APIRouter, Query

from src.domain.market_data import Instrument, Interval, Symbol
from src.features.quotes.messages import (
    GetAllQuotesQuery,
    GetCurrentBarQuery,
    GetLatestQuoteQuery,
    GetQuoteStatusQuery,
    SetBarIntervalsCommand,
    StartQuotesCommand,
    StopQuotesCommand,
    SubscribeQuotesCommand,
    UnsubscribeQuotesCommand,
)
from src.features.quotes.schemas import (
    IntervalsBody,
    IntervalsRequest,
    LiveBarBody,
    QuoteBody,
    QuoteStatusBody,
    StartRequest,
    SubscribeRequest,
    SubscriptionsBody,
    SymbolsRequest,
)
from src.features.shared.dependencies import MediatorDep
from src.features.shared.fields import DEFAULT_SOURCE, ExchangePath, IntervalCode, SourceId, SymbolPath
from src.features.shared.responses import OrjsonResponse

router = APIRouter(prefix="/api/v1/quotes", tags=["quotes"])


@router.post("/start", responses={404: {"description": "an unknown symbol"},
                                 502: {"description": "the source refused"}})
async def start(mediator: MediatorDep, body: StartRequest | None = None) -> QuoteStatusBody:
    """Start the live quote sessions (idempotent), optionally subscribing symbols of one source."""
    instruments = body.parsed() if body is not None else ()
    return QuoteStatusBody.of(await mediator.send(StartQuotesCommand(instruments)))


@router.post("/stop")
async def stop(mediator: MediatorDep) -> QuoteStatusBody:
    """Unsubscribe everything and persist every forming bar."""
    return QuoteStatusBody.of(await mediator.send(StopQuotesCommand()))


@router.post("/subscribe", responses={404: {"description": "an unknown symbol"},
                                     502: {"description": "the source refused"}})
async def subscribe(body: SubscribeRequest, mediator: MediatorDep) -> SubscriptionsBody:
    """Subscribe symbols (`EXCHANGE:CODE`); `intervals` are added to the bar intervals built."""
    instruments = await mediator.send(SubscribeQuotesCommand(body.parsed(), body.parsed_intervals()))
    return SubscriptionsBody.of(instruments)


@router.post("/unsubscribe")
async def unsubscribe(body: SymbolsRequest, mediator: MediatorDep) -> SubscriptionsBody:
    instruments = await mediator.send(UnsubscribeQuotesCommand(body.parsed()))
    return SubscriptionsBody.of(instruments)


@router.put("/intervals")
async def set_intervals(body: IntervalsRequest, mediator: MediatorDep) -> IntervalsBody:
    """Replace the set of bar intervals built live (e.g. `["1m", "5m", "1h"]`)."""
    intervals = await mediator.send(SetBarIntervalsCommand(body.parsed()))
    return IntervalsBody(intervals=[i.code for i in intervals])


@router.get("/latest/{exchange}/{symbol}", response_class=OrjsonResponse,
            responses={200: {"model": QuoteBody}, 404: {"description": "no quote for that symbol"}})
async def latest(exchange: ExchangePath, symbol: SymbolPath, mediator: MediatorDep,
                 source: SourceId = DEFAULT_SOURCE) -> Any:
    return OrjsonResponse(await mediator.send(GetLatestQuoteQuery(Instrument(source, Symbol(exchange, symbol)))))


@router.get("/all", response_class=OrjsonResponse, responses={200: {"model": list[QuoteBody]}})
async def all_quotes(mediator: MediatorDep) -> Any:
    return OrjsonResponse(await mediator.send(GetAllQuotesQuery()))


@router.get("/current-bar/{exchange}/{symbol}", response_class=OrjsonResponse,
            responses={200: {"model": LiveBarBody}, 404: {"description": "no live bar for that symbol"}})
async def current_bar(
    exchange: ExchangePath, symbol: SymbolPath, mediator: MediatorDep,
    interval: Annotated[IntervalCode, Query()] = "1m",
    source: SourceId = DEFAULT_SOURCE,
) -> Any:
    query = GetCurrentBarQuery(Instrument(source, Symbol(exchange, symbol)), Interval.parse(interval))
    return OrjsonResponse(await mediator.send(query))


@router.get("/status")
async def status(mediator: MediatorDep) -> QuoteStatusBody:
    return QuoteStatusBody.of(await mediator.send(GetQuoteStatusQuery()))
