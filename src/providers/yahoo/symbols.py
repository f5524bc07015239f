"""Symbols from Yahoo Finance: search (`/v1/finance/search`) and what the chart metadata says of one ticker.

Symbol mapping: a Yahoo ticker is already unique across exchanges (the suffix names the market: `VOD.L`,
`0700.HK`), so every Yahoo symbol is `YAHOO:<ticker>` (`YAHOO:AAPL`, `YAHOO:^GSPC`, `YAHOO:EURUSD=X`); the
exchange Yahoo reports (`NMS`, `LSE`, `CCC`, ...) is kept in `SymbolInfo.extra["exchange"]`, never in the key,
so a series keeps its identity whatever Yahoo calls the exchange.
"""

from typing import Any

from src.common.ports import SymbolInfo, SymbolMatch
from src.domain.errors import DomainError
from src.domain.market_data import Symbol
from src.providers.yahoo.chart import parse_chart
from src.providers.yahoo.history import EXCHANGE, ticker_of
from src.providers.yahoo.http import YahooHttp, path_symbol
from src.providers.yahoo.sessions import session_strings

SEARCH_COUNT = 20
ADJUSTMENT = "split-adjusted; not dividend-adjusted"
TYPES = {"EQUITY": "stock", "ETF": "fund", "MUTUALFUND": "fund", "INDEX": "index", "CRYPTOCURRENCY": "crypto",
         "CURRENCY": "forex", "FUTURE": "futures"}
_META_EXTRA = {"exchange": "exchangeName", "full_exchange_name": "fullExchangeName",
               "instrument_type": "instrumentType", "first_trade_date": "firstTradeDate", "price_hint": "priceHint",
               "gmtoffset": "gmtoffset"}


class YahooSymbols:
    def __init__(self, http: YahooHttp) -> None:
        self._http = http

    async def resolve_symbol(self, symbol: Symbol) -> SymbolInfo:
        """From a month of hourly chart metadata: names, currency, time zone and sessions."""
        ticker = ticker_of(symbol)
        params: dict[str, str | int] = {"interval": "60m", "range": "1mo", "includePrePost": "false"}
        chart = parse_chart(await self._http.get_json(f"/v8/finance/chart/{path_symbol(ticker)}", params,
                                                      what=ticker), ticker)
        meta = chart.meta
        sessions = session_strings(chart.sessions, chart.zone, meta.get("currentTradingPeriod"))
        extra = {key: meta[name] for key, name in _META_EXTRA.items() if meta.get(name) is not None}
        extra.update({k: v for k, v in sessions.items() if k != "session"}, adjustment=ADJUSTMENT, ticker=ticker)
        return SymbolInfo(symbol, description=str(meta.get("longName") or meta.get("shortName") or ticker),
                          type=TYPES.get(str(meta.get("instrumentType")), str(meta.get("instrumentType") or "")),
                          currency=str(meta.get("currency") or ""), timezone=chart.zone.key,
                          session=sessions.get("session", ""), extra=extra)

    async def search_symbols(self, query: str, *, exchange: str | None = None) -> list[SymbolMatch]:
        """Yahoo's matches; `exchange` is `YAHOO` (all) or one of Yahoo's exchange codes (`NMS`, `LSE`)."""
        text = query.strip().removeprefix(f"{EXCHANGE}:")
        if not text:
            return []
        params: dict[str, str | int] = {"q": text, "quotesCount": SEARCH_COUNT, "newsCount": 0, "listsCount": 0}
        body = await self._http.get_json("/v1/finance/search", params, what=f"search {text!r}")
        wanted = None if exchange is None or exchange.upper() == EXCHANGE else exchange.upper()
        quotes = body.get("quotes") if isinstance(body, dict) else None
        return [m for item in (quotes if isinstance(quotes, list) else []) if (m := _match(item, wanted)) is not None]


def _match(item: Any, exchange: str | None) -> SymbolMatch | None:
    if not isinstance(item, dict) or (exchange is not None and str(item.get("exchange", "")).upper() != exchange):
        return None
    try:
        symbol = Symbol(EXCHANGE, str(item.get("symbol") or ""))
    except DomainError:
        return None
    kind = str(item.get("quoteType") or "")
    return SymbolMatch(symbol, str(item.get("longname") or item.get("shortname") or ""), TYPES.get(kind, kind.lower()))
