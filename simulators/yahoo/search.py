"""`GET /v1/finance/search?q=`: instruments whose symbol starts with the query or whose name contains it,
exact symbol first, at most `quotesCount` (default 6)."""

from typing import Any

from simulators.yahoo.instruments import Instrument


def search_body(query: str, instruments: list[Instrument], count: int) -> dict[str, Any]:
    needle = query.strip().lower()
    found = [i for i in instruments if i.symbol.lower().startswith(needle) or needle in i.short_name.lower()
             or needle in i.long_name.lower()] if needle else []
    found.sort(key=lambda i: (i.symbol.lower() != needle, not i.symbol.lower().startswith(needle), i.symbol))
    quotes = [_quote(i, 100_000 - rank * 1000) for rank, i in enumerate(found[:count])]
    timings = ("Quotes", "News", "Algowatchlist", "PredefinedScreener", "Crunchbase", "Nav", "ResearchReports",
               "ScreenerField", "CulturalAssets", "SearchLists")
    return {"explains": [], "count": len(quotes), "quotes": quotes, "news": [], "nav": [], "lists": [],
            "researchReports": [], "screenerFieldResults": [], "culturalAssets": [], "totalTime": 12,
            **{f"timeTakenFor{name}": 1 for name in timings}}


def _quote(inst: Instrument, score: int) -> dict[str, Any]:
    entry: dict[str, Any] = {"exchange": inst.exchange, "shortname": inst.short_name, "quoteType": inst.quote_type,
                             "symbol": inst.symbol, "index": "quotes", "score": float(score),
                             "typeDisp": inst.type_display, "longname": inst.long_name,
                             "exchDisp": inst.exchange_display, "isYahooFinance": True}
    if inst.sector:
        entry.update(sector=inst.sector, sectorDisp=inst.sector, industry=inst.industry, industryDisp=inst.industry)
    return entry
