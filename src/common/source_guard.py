"""`SourceGuard`: the one circuit breaker of a source, applied by the root around everything its provider
does (history, symbols, live subscriptions), so no adapter implements one.

A call is admitted by the breaker (`src/domain/sources/circuit.py`) or refused at once with
`SourceUnavailable` (503, naming the source, `Retry-After` = the time the circuit stays open). Its outcome is
reported back: a failure is an exception that says the source failed (unreachable, timed out, refused,
or something unexpected); an answer that names the caller's mistake (`NotFound`, `InvalidRequest`, a domain
rule) means the source is up. A cancelled call, or one refused with `SourceUnavailable` before it reached the
source (over the source's shared budget, or blocked after a 429/418, which the budget already counts down),
neither succeeds nor fails.

The breaker lives in this process (each worker keeps its own, as each sees its own failures). Time comes
from the monotonic clock given to the guard.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from typing import TypeVar

import structlog

from src.common.errors import InvalidRequest, NotFound, SourceUnavailable
from src.common.ports import (
    HistoryProvider,
    Provider,
    QuoteCallback,
    QuoteFeed,
    SymbolDirectory,
    SymbolInfo,
    SymbolMatch,
)
from src.domain.errors import DomainError
from src.domain.market_data import Interval, OHLCVBar, Symbol
from src.domain.market_data.trading_hours import TradingHours
from src.domain.sources import Admission, BreakerPolicy, CircuitBreaker, CircuitState

log = structlog.get_logger("sources.guard")
T = TypeVar("T")
# The source answered: the request was wrong, not the source.
ANSWERS = (NotFound, InvalidRequest, DomainError)


class SourceGuard:
    def __init__(self, source: str, policy: BreakerPolicy, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.source = source
        self.breaker = CircuitBreaker(policy)
        self._clock = clock
        self.refused = 0  # requests refused while open or probing (a metric)

    @property
    def state(self) -> CircuitState:
        return self.breaker.state

    async def call(self, operation: Callable[[], Awaitable[T]]) -> T:
        admission = self._admit()
        try:
            result = await operation()
        except (asyncio.CancelledError, SourceUnavailable):
            # Cancelled, or refused before reaching the source (its shared budget, or a ban it already
            # counts down): no outcome to record; a probe leaves the way to the next request.
            self.breaker = self.breaker.abandoned() if admission is Admission.PROBE else self.breaker
            raise
        except ANSWERS:
            self._record(self.breaker.succeeded())
            raise
        except Exception as error:
            self._record(self.breaker.failed(self._clock()), error)
            raise
        self._record(self.breaker.succeeded())
        return result

    def _admit(self) -> Admission:
        now = self._clock()
        breaker, admission = self.breaker.admit(now)
        if admission is Admission.REFUSE:
            self.refused += 1
            raise self.refusal(now)
        self._record(breaker)
        return admission

    def refusal(self, now: float) -> SourceUnavailable:
        wait = self.breaker.retry_after(now)
        what = "open" if self.state is CircuitState.OPEN else "half-open, a probe is in flight"
        return SourceUnavailable(f"source {self.source!r} is unavailable: its circuit is {what}; retry in "
                                 f"{max(1, round(wait))}s", source=self.source, retry_after_s=wait)

    def _record(self, breaker: CircuitBreaker, error: Exception | None = None) -> None:
        before, self.breaker = self.breaker.state, breaker
        if breaker.state is not before:
            log.warning("source_circuit", source=self.source, state=str(breaker.state), was=str(before),
                        error=None if error is None else repr(error)[:200])

    async def check(self) -> bool:
        """The health check: healthy only when closed; otherwise it says why."""
        if self.state is CircuitState.CLOSED:
            return True
        raise self.refusal(self._clock()) if self.state is CircuitState.OPEN else \
            SourceUnavailable(f"source {self.source!r} is half-open: probing", source=self.source,
                              retry_after_s=self.breaker.policy.probe_retry_s)

    def wrap(self, provider: Provider) -> Provider:
        """The provider with every upstream call going through this guard."""
        quotes = None if provider.quotes is None else GuardedQuotes(self, provider.quotes)
        return replace(provider, history=GuardedHistory(self, provider.history),
                       symbols=GuardedSymbols(self, provider.symbols), quotes=quotes)


class GuardedHistory:
    def __init__(self, guard: SourceGuard, inner: HistoryProvider) -> None:
        self._guard = guard
        self.inner = inner

    async def fetch_bars(self, symbol: Symbol, interval: Interval, n_bars: int, *,
                         hours: TradingHours | None = None) -> list[OHLCVBar]:
        return await self._guard.call(lambda: self.inner.fetch_bars(symbol, interval, n_bars, hours=hours))

    async def fetch_range(self, symbol: Symbol, interval: Interval, start: int, end: int, *,
                          hours: TradingHours | None = None) -> list[OHLCVBar]:
        return await self._guard.call(lambda: self.inner.fetch_range(symbol, interval, start, end, hours=hours))


class GuardedSymbols:
    def __init__(self, guard: SourceGuard, inner: SymbolDirectory) -> None:
        self._guard = guard
        self.inner = inner

    async def resolve_symbol(self, symbol: Symbol) -> SymbolInfo:
        return await self._guard.call(lambda: self.inner.resolve_symbol(symbol))

    async def search_symbols(self, query: str, *, exchange: str | None = None) -> list[SymbolMatch]:
        return await self._guard.call(lambda: self.inner.search_symbols(query, exchange=exchange))


class GuardedQuotes:
    """Subscribing goes through the guard; unsubscribing and the live stream itself do not (the feed
    reconnects by itself, and letting go of symbols must work while the source is down)."""

    def __init__(self, guard: SourceGuard, inner: QuoteFeed) -> None:
        self._guard = guard
        self.inner = inner

    async def subscribe(self, symbols: Iterable[Symbol]) -> None:
        wanted = list(symbols)
        await self._guard.call(lambda: self.inner.subscribe(wanted))

    async def unsubscribe(self, symbols: Iterable[Symbol]) -> None:
        await self.inner.unsubscribe(symbols)

    def add_quote_callback(self, callback: QuoteCallback) -> None:
        self.inner.add_quote_callback(callback)

    def remove_quote_callback(self, callback: QuoteCallback) -> None:
        self.inner.remove_quote_callback(callback)

    @property
    def subscriptions(self) -> list[Symbol]:
        return self.inner.subscriptions

    @property
    def connected(self) -> bool:
        return self.inner.connected

    @property
    def reconnect_count(self) -> int:
        return self.inner.reconnect_count
