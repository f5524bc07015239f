"""Handlers of the quotes slice: thin calls into the one `QuoteService`; reads fall back to the cache."""

from typing import Any

from src.common import cache_keys
from src.common.errors import NotFound
from src.common.ports import Cache
from src.domain.market_data import Instrument, Interval
from src.features.quotes.messages import (
    GetAllQuotesQuery,
    GetCurrentBarQuery,
    GetLatestQuoteQuery,
    GetQuoteStatusQuery,
    ReleaseQuotesCommand,
    ServeQuoteStreamCommand,
    SetBarIntervalsCommand,
    StartQuotesCommand,
    StopQuotesCommand,
    SubscribeQuotesCommand,
    UnsubscribeQuotesCommand,
)
from src.features.quotes.payloads import bar_payload, quote_payload
from src.features.quotes.service import QuoteStatus
from src.features.quotes.sessions import QuoteSessions
from src.features.quotes.ws import QuoteHub


class StartQuotesHandler:
    def __init__(self, quote_service: QuoteSessions) -> None:
        self._service = quote_service

    async def __call__(self, command: StartQuotesCommand) -> QuoteStatus:
        await self._service.start()
        if command.instruments:
            await self._service.subscribe(command.instruments)
        return self._service.status()


class StopQuotesHandler:
    def __init__(self, quote_service: QuoteSessions) -> None:
        self._service = quote_service

    async def __call__(self, command: StopQuotesCommand) -> QuoteStatus:
        await self._service.stop()
        return self._service.status()


class SubscribeQuotesHandler:
    def __init__(self, quote_service: QuoteSessions) -> None:
        self._service = quote_service

    async def __call__(self, command: SubscribeQuotesCommand) -> list[Instrument]:
        return await self._service.subscribe(command.instruments, command.intervals, command.holder)


class UnsubscribeQuotesHandler:
    def __init__(self, quote_service: QuoteSessions) -> None:
        self._service = quote_service

    async def __call__(self, command: UnsubscribeQuotesCommand) -> list[Instrument]:
        return await self._service.unsubscribe(command.instruments, command.holder)


class ReleaseQuotesHandler:
    def __init__(self, quote_service: QuoteSessions) -> None:
        self._service = quote_service

    async def __call__(self, command: ReleaseQuotesCommand) -> None:
        await self._service.release(command.holder)


class SetBarIntervalsHandler:
    def __init__(self, quote_service: QuoteSessions) -> None:
        self._service = quote_service

    async def __call__(self, command: SetBarIntervalsCommand) -> tuple[Interval, ...]:
        return await self._service.change_intervals(command.intervals)


class GetLatestQuoteHandler:
    """The live quote, else the cached one (written within the last 60 s), else NotFound."""

    def __init__(self, quote_service: QuoteSessions, cache: Cache) -> None:
        self._service = quote_service
        self._cache = cache

    async def __call__(self, query: GetLatestQuoteQuery) -> dict[str, Any]:
        tick = self._service.latest_quote(query.instrument)
        if tick is not None:
            return quote_payload(query.instrument, tick)
        cached = await self._cache.get(cache_keys.latest_quote(query.instrument))
        if cached is None:
            raise NotFound(f"no quote for {query.instrument}", field="symbol")
        return dict(cached)


class GetAllQuotesHandler:
    def __init__(self, quote_service: QuoteSessions) -> None:
        self._service = quote_service

    async def __call__(self, query: GetAllQuotesQuery) -> list[dict[str, Any]]:
        return [quote_payload(instrument, tick) for instrument, tick in self._service.latest_quotes()]


class GetCurrentBarHandler:
    """The forming bar (or the one just closed, `closed: true`), else the cached one, else NotFound."""

    def __init__(self, quote_service: QuoteSessions, cache: Cache) -> None:
        self._service = quote_service
        self._cache = cache

    async def __call__(self, query: GetCurrentBarQuery) -> dict[str, Any]:
        current = self._service.current_bar(query.instrument, query.interval)
        if current is not None:
            return bar_payload(current.instrument, current.bar, closed=current.closed)
        cached = await self._cache.get(cache_keys.current_bar(query.instrument, query.interval))
        if cached is None:
            raise NotFound(f"no {query.interval.code} bar for {query.instrument}", field="symbol")
        return dict(cached)


class GetQuoteStatusHandler:
    def __init__(self, quote_service: QuoteSessions) -> None:
        self._service = quote_service

    async def __call__(self, query: GetQuoteStatusQuery) -> QuoteStatus:
        return self._service.status()


class ServeQuoteStreamHandler:
    def __init__(self, hub: QuoteHub) -> None:
        self._hub = hub

    async def __call__(self, command: ServeQuoteStreamCommand) -> None:
        await self._hub.serve(command.websocket)
