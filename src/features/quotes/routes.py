"""HTTP routes of the quotes slice: each builds a Command or Query and sends it to the Mediator.
Errors (NotFound, Conflict, SymbolNotFound, domain errors) are mapped to problem+json by the HTTP edge."""

from typing import Annotated, Any

from fastapi import APIRouter, Query

from src.domain.market_data import Interval, Symbol
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
    QuoteStatusBody,
    StartRequest,
    SubscribeRequest,
    SubscriptionsBody,
    SymbolsRequest,
)
from src.features.shared.dependencies import MediatorDep
from src.features.shared.fields import IntervalCode
from src.features.shared.responses import OrjsonResponse

router = APIRouter(prefix="/api/v1/quotes", tags=["quotes"])


@router.post("/start")
async def start(mediator: MediatorDep, body: StartRequest | None = None) -> QuoteStatusBody:
    """Start the live quote session (idempotent), optionally subscribing symbols."""
    symbols = body.parsed() if body is not None else ()
    return QuoteStatusBody.of(await mediator.send(StartQuotesCommand(symbols)))


@router.post("/stop")
async def stop(mediator: MediatorDep) -> QuoteStatusBody:
    """Unsubscribe everything and persist every forming bar."""
    return QuoteStatusBody.of(await mediator.send(StopQuotesCommand()))


@router.post("/subscribe")
async def subscribe(body: SubscribeRequest, mediator: MediatorDep) -> SubscriptionsBody:
    """Subscribe symbols (`EXCHANGE:CODE`); `intervals` are added to the bar intervals built."""
    symbols = await mediator.send(SubscribeQuotesCommand(body.parsed(), body.parsed_intervals()))
    return SubscriptionsBody(symbols=[s.ticker for s in symbols])


@router.post("/unsubscribe")
async def unsubscribe(body: SymbolsRequest, mediator: MediatorDep) -> SubscriptionsBody:
    symbols = await mediator.send(UnsubscribeQuotesCommand(body.parsed()))
    return SubscriptionsBody(symbols=[s.ticker for s in symbols])


@router.put("/intervals")
async def set_intervals(body: IntervalsRequest, mediator: MediatorDep) -> IntervalsBody:
    """Replace the set of bar intervals built live (e.g. `["1m", "5m", "1h"]`)."""
    intervals = await mediator.send(SetBarIntervalsCommand(body.parsed()))
    return IntervalsBody(intervals=[i.code for i in intervals])


@router.get("/latest/{exchange}/{symbol}", response_class=OrjsonResponse)
async def latest(exchange: str, symbol: str, mediator: MediatorDep) -> Any:
    return OrjsonResponse(await mediator.send(GetLatestQuoteQuery(Symbol(exchange, symbol))))


@router.get("/all", response_class=OrjsonResponse)
async def all_quotes(mediator: MediatorDep) -> Any:
    return OrjsonResponse(await mediator.send(GetAllQuotesQuery()))


@router.get("/current-bar/{exchange}/{symbol}", response_class=OrjsonResponse)
async def current_bar(
    exchange: str, symbol: str, mediator: MediatorDep, interval: Annotated[IntervalCode, Query()] = "1m"
) -> Any:
    query = GetCurrentBarQuery(Symbol(exchange, symbol), Interval.parse(interval))
    return OrjsonResponse(await mediator.send(query))


@router.get("/status")
async def status(mediator: MediatorDep) -> QuoteStatusBody:
    return QuoteStatusBody.of(await mediator.send(GetQuoteStatusQuery()))
