"""Live quotes from Yahoo Finance by polling `/v7/finance/quote` (Yahoo has no public stream), as a `QuoteFeed`.

Rules:
- Every `poll_interval_s` one request per `quotes_per_request` subscribed tickers; each spends from the source's
  shared budget like any other request, so polling never outruns the limit whatever the period.
- A quote becomes a tick when its trade time, price or day volume changed since the last tick of that ticker.
- `regularMarketVolume` is the day's cumulative volume, which is what `QuoteTick.cumulative_volume` means (it
  drops at a new day: a new session for the live bar aggregator).
- Subscribing polls the new tickers at once (their snapshot); tickers Yahoo does not return raise `SymbolNotFound`
  after the others are added.
- `connected` is whether the last poll succeeded; a poll that succeeds after failures counts as a reconnect.
"""

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Any

import structlog

from src.common.errors import ApplicationError, SymbolNotFound
from src.common.ports import QuoteCallback
from src.domain.errors import DomainError
from src.domain.market_data import QuoteTick, Symbol
from src.providers.yahoo.config import YahooConfig
from src.providers.yahoo.history import ticker_of
from src.providers.yahoo.http import YahooHttp

log = structlog.get_logger("yahoo.quotes")


class YahooQuoteFeed:
    def __init__(self, config: YahooConfig, http: YahooHttp) -> None:
        self.config = config
        self._http = http
        self._symbols: dict[str, Symbol] = {}
        self._last: dict[str, tuple[float, float, float | None]] = {}
        self._callbacks: list[QuoteCallback] = []
        self._poller: asyncio.Task[None] | None = None
        self._healthy = False
        self._failing = False
        self.reconnect_count = 0
        self.polls = 0

    @property
    def connected(self) -> bool:
        return self._healthy

    @property
    def subscriptions(self) -> list[Symbol]:
        return list(self._symbols.values())

    def add_quote_callback(self, callback: QuoteCallback) -> None:
        self._callbacks.append(callback)

    def remove_quote_callback(self, callback: QuoteCallback) -> None:
        with contextlib.suppress(ValueError):
            self._callbacks.remove(callback)

    async def subscribe(self, symbols: Iterable[Symbol]) -> None:
        wanted = list(dict.fromkeys(symbols))
        unknown = [str(s) for s in wanted if s.exchange != "YAHOO"]
        new = {ticker_of(s): s for s in wanted if s.exchange == "YAHOO" and s.code not in self._symbols}
        found = await self._poll(list(new)) if new else set()
        self._healthy = True
        self._symbols.update((ticker, symbol) for ticker, symbol in new.items() if ticker in found)
        unknown += [str(symbol) for ticker, symbol in new.items() if ticker not in found]
        if self._symbols and (self._poller is None or self._poller.done()):
            self._poller = asyncio.create_task(self._poll_forever(), name="yahoo-quotes")
        if unknown:
            raise SymbolNotFound(f"Yahoo Finance has no quote for {', '.join(unknown)}", field="symbol")

    async def unsubscribe(self, symbols: Iterable[Symbol]) -> None:
        for symbol in symbols:
            self._symbols.pop(symbol.code, None)
            self._last.pop(symbol.code, None)
        if not self._symbols:
            await self.close()

    async def close(self) -> None:
        poller, self._poller = self._poller, None
        if poller is not None:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller

    async def _poll_forever(self) -> None:
        while self._symbols:
            await asyncio.sleep(self.config.poll_interval_s)
            try:
                await self._poll(list(self._symbols))
            except ApplicationError as error:
                self._healthy, self._failing = False, True
                log.warning("yahoo_quotes_poll_failed", error=str(error))
                continue
            if self._failing:
                self.reconnect_count += 1
            self._healthy, self._failing = True, False

    async def _poll(self, tickers: list[str]) -> set[str]:
        """Poll `tickers`, deliver what changed; the tickers Yahoo answered for."""
        self.polls += 1
        answered: set[str] = set()
        size = self.config.quotes_per_request
        for first in range(0, len(tickers), size):
            chunk = tickers[first:first + size]
            body = await self._http.get_json("/v7/finance/quote", {"symbols": ",".join(chunk)}, what="quotes")
            results = body.get("quoteResponse", {}).get("result") if isinstance(body, dict) else None
            for quote in results if isinstance(results, list) else []:
                ticker = str(quote.get("symbol")) if isinstance(quote, dict) else ""
                if ticker in chunk:
                    answered.add(ticker)
                    await self._on_quote(ticker, quote)
        return answered

    async def _on_quote(self, ticker: str, quote: dict[str, Any]) -> None:
        tick = _tick(Symbol("YAHOO", ticker), quote)
        if tick is None:
            return
        state = (tick.time, tick.price, tick.cumulative_volume)
        if self._last.get(ticker) == state:
            return
        self._last[ticker] = state
        for callback in list(self._callbacks):
            try:
                await callback(tick)
            except Exception:
                log.exception("yahoo_quote_callback_failed", symbol=ticker)


def _tick(symbol: Symbol, quote: dict[str, Any]) -> QuoteTick | None:
    price, when = quote.get("regularMarketPrice"), quote.get("regularMarketTime")
    if price is None or when is None:
        return None
    try:
        return QuoteTick(symbol, float(when), float(price), cumulative_volume=_number(quote.get("regularMarketVolume")),
                         bid=_number(quote.get("bid")), ask=_number(quote.get("ask")),
                         change=_number(quote.get("regularMarketChange")),
                         change_percent=_number(quote.get("regularMarketChangePercent")))
    except (DomainError, TypeError, ValueError):
        return None


def _number(value: Any) -> float | None:
    return None if value is None else float(value)
