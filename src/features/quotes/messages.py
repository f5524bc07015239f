"""Commands and Queries of the quotes slice: plain immutable requests built by the routes and the hub."""

from dataclasses import dataclass
from typing import Any

from src.domain.market_data import Instrument, Interval
from src.domain.realtime.references import API_HOLDER


@dataclass(frozen=True, slots=True)
class StartQuotesCommand:
    """Start the quote sessions (idempotent), then subscribe `instruments` if any."""

    instruments: tuple[Instrument, ...] = ()


@dataclass(frozen=True, slots=True)
class StopQuotesCommand:
    """Unsubscribe everything, flush every forming bar, drain the writers."""


@dataclass(frozen=True, slots=True)
class SubscribeQuotesCommand:
    """Upstream subscriptions are reference-counted: `holder` (the REST API, or one WebSocket connection)
    holds these instruments until it unsubscribes or is released."""

    instruments: tuple[Instrument, ...]
    intervals: tuple[Interval, ...] = ()  # added to the intervals built for every symbol
    holder: str = API_HOLDER


@dataclass(frozen=True, slots=True)
class UnsubscribeQuotesCommand:
    instruments: tuple[Instrument, ...]
    holder: str = API_HOLDER


@dataclass(frozen=True, slots=True)
class ReleaseQuotesCommand:
    """Everything `holder` holds is released (its WebSocket connection ended)."""

    holder: str


@dataclass(frozen=True, slots=True)
class SetBarIntervalsCommand:
    intervals: tuple[Interval, ...]


@dataclass(frozen=True, slots=True)
class GetLatestQuoteQuery:
    instrument: Instrument


@dataclass(frozen=True, slots=True)
class GetAllQuotesQuery:
    """The latest quote of every subscribed symbol."""


@dataclass(frozen=True, slots=True)
class GetCurrentBarQuery:
    instrument: Instrument
    interval: Interval


@dataclass(frozen=True, slots=True)
class GetQuoteStatusQuery:
    """Connection, subscriptions and last tick per symbol."""


@dataclass(frozen=True, slots=True)
class ServeQuoteStreamCommand:
    """Run one client WebSocket (`/api/v1/ws/quotes`, accepted by the handler) until it closes."""

    websocket: Any  # starlette's WebSocket: the one framework object a command carries, by necessity
