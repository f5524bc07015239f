"""Symbols and search from `GET /api/v3/exchangeInfo` (weight 20), kept for `symbols_ttl_s` and refreshed
by one request however many callers ask at once. Only pairs whose status is `TRADING` are listed."""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from src.common.errors import SymbolNotFound, UpstreamRejected
from src.common.ports import SymbolInfo, SymbolMatch
from src.domain.errors import DomainError
from src.domain.market_data import Symbol
from src.providers.binance.config import BinanceConfig
from src.providers.binance.history import EXCHANGE, pair_of
from src.providers.binance.rest import BinanceRest

EXCHANGE_INFO_WEIGHT = 20
MAX_MATCHES = 50


@dataclass(frozen=True, slots=True)
class Pair:
    symbol: Symbol
    base: str
    quote: str
    filters: dict[str, dict[str, Any]]

    @property
    def description(self) -> str:
        return f"{self.base} / {self.quote}"


class BinanceSymbols:
    def __init__(self, rest: BinanceRest, config: BinanceConfig, *, clock: Callable[[], float] = time.monotonic):
        self._rest = rest
        self._ttl_s = config.symbols_ttl_s
        self._clock = clock
        self._pairs: dict[str, Pair] = {}
        self._loaded_at: float | None = None
        self._lock = asyncio.Lock()

    async def trading(self) -> dict[str, Pair]:
        """The pairs trading now, by Binance symbol."""
        async with self._lock:
            if self._loaded_at is None or self._clock() - self._loaded_at >= self._ttl_s:
                body = await self._rest.get("/v3/exchangeInfo", {"symbolStatus": "TRADING"}, EXCHANGE_INFO_WEIGHT)
                self._pairs = _trading_pairs(body)
                self._loaded_at = self._clock()
        return self._pairs

    async def resolve_symbol(self, symbol: Symbol) -> SymbolInfo:
        pair = (await self.trading()).get(pair_of(symbol))
        if pair is None:
            raise SymbolNotFound(f"Binance has no trading pair {symbol.code}", field="symbol")
        return SymbolInfo(pair.symbol, description=pair.description, type="crypto", currency=pair.quote,
                          timezone="Etc/UTC", session="24x7", extra=_extra(pair))

    async def search_symbols(self, query: str, *, exchange: str | None = None) -> list[SymbolMatch]:
        if exchange and exchange.upper() != EXCHANGE:
            return []
        text = query.strip().upper().removeprefix(f"{EXCHANGE}:").replace("/", "")
        if not text:
            return []
        pairs = (await self.trading()).values()
        found = sorted((p for p in pairs if _matches(p, text)), key=lambda p: (_rank(p, text), p.symbol.code))
        return [SymbolMatch(p.symbol, p.description, "crypto", p.quote) for p in found[:MAX_MATCHES]]


def _matches(pair: Pair, text: str) -> bool:
    return text in pair.symbol.code or text in (pair.base, pair.quote)


def _rank(pair: Pair, text: str) -> int:
    code = pair.symbol.code
    return 0 if code == text else 1 if code.startswith(text) else 2 if pair.base == text else 3


def _trading_pairs(body: Any) -> dict[str, Pair]:
    items = body.get("symbols") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise UpstreamRejected("Binance exchangeInfo has no symbols list")
    pairs: dict[str, Pair] = {}
    for item in items:
        if not isinstance(item, dict) or item.get("status") != "TRADING":
            continue
        try:
            symbol = Symbol(EXCHANGE, str(item["symbol"]))
        except (DomainError, KeyError):
            continue
        filters = {str(f.get("filterType")): f for f in item.get("filters", []) if isinstance(f, dict)}
        pairs[symbol.code] = Pair(symbol, str(item.get("baseAsset", "")), str(item.get("quoteAsset", "")), filters)
    return pairs


def _extra(pair: Pair) -> dict[str, Any]:
    price, lot, notional = (pair.filters.get(name, {}) for name in ("PRICE_FILTER", "LOT_SIZE", "NOTIONAL"))
    return {"exchange": EXCHANGE, "base_asset": pair.base, "quote_asset": pair.quote, "status": "TRADING",
            "tick_size": price.get("tickSize"), "step_size": lot.get("stepSize"),
            "min_notional": notional.get("minNotional")}
