"""Commands and Queries of the quotes slice: plain immutable requests built by the routes and the hub."""

from dataclasses import dataclass

from src.domain.market_data import Interval, Symbol


@dataclass(frozen=True, slots=True)
class StartQuotesCommand:
    """Start the quote session (idempotent), then subscribe `symbols` if any."""

    symbols: tuple[Symbol, ...] = ()


@dataclass(frozen=True, slots=True)
class StopQuotesCommand:
    """Unsubscribe everything, flush every forming bar, drain the writers."""


@dataclass(frozen=True, slots=True)
class SubscribeQuotesCommand:
    symbols: tuple[Symbol, ...]
    intervals: tuple[Interval, ...] = ()  # added to the intervals built for every symbol


@dataclass(frozen=True, slots=True)
class UnsubscribeQuotesCommand:
    symbols: tuple[Symbol, ...]


@dataclass(frozen=True, slots=True)
class SetBarIntervalsCommand:
    intervals: tuple[Interval, ...]


@dataclass(frozen=True, slots=True)
class GetLatestQuoteQuery:
    symbol: Symbol


@dataclass(frozen=True, slots=True)
class GetAllQuotesQuery:
    """The latest quote of every subscribed symbol."""


@dataclass(frozen=True, slots=True)
class GetCurrentBarQuery:
    symbol: Symbol
    interval: Interval


@dataclass(frozen=True, slots=True)
class GetQuoteStatusQuery:
    """Connection, subscriptions and last tick per symbol."""
