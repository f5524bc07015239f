"""Bar history from `GET /api/v3/klines`, paging both ways.

- `fetch_bars` (newest N): the periods the N bars must cover are known from now, so they are fetched as
  time windows of 1,000 klines at once (`pages_in_flight` in flight); where history has gaps (exchange
  maintenance) or ends, it pages back with `endTime` until N bars or the listing.
- `fetch_range`: one page forward from `start` finds where history begins; the rest of the range is fetched
  in windows at once. The calendar month (no fixed length) pages sequentially, both ways.
- 45m and 3h are composed from 15m and 1h klines fetched over whole composite periods; the newest
  composite bar is forming like Binance's own newest kline.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence

from src.common.errors import SymbolNotFound
from src.domain.market_data import Interval, OHLCVBar, Symbol
from src.domain.market_data.composite import compose
from src.domain.market_data.trading_hours import TradingHours
from src.providers.binance.config import BinanceConfig
from src.providers.binance.intervals import KlinePlan, plan
from src.providers.binance.klines import parse_klines
from src.providers.binance.rest import BinanceRest

EXCHANGE = "BINANCE"
PAGE = 1_000
KLINES_WEIGHT = 2
_PAIR_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def pair_of(symbol: Symbol) -> str:
    """Binance's symbol for `BINANCE:<pair>`; any other symbol is not one Binance lists."""
    if symbol.exchange != EXCHANGE or len(symbol.code) > 20 or not set(symbol.code) <= _PAIR_CHARS:
        raise SymbolNotFound(f"Binance lists its pairs as {EXCHANGE}:<PAIR>; {symbol} is not one", field="symbol")
    return symbol.code


class BinanceHistory:
    def __init__(self, rest: BinanceRest, config: BinanceConfig, *, clock: Callable[[], float] = time.time) -> None:
        self._rest = rest
        self._clock = clock
        self._slots = asyncio.Semaphore(config.pages_in_flight)

    async def fetch_bars(self, symbol: Symbol, interval: Interval, n_bars: int, *,
                         hours: TradingHours | None = None) -> list[OHLCVBar]:
        """`hours` changes nothing: Binance trades 24x7 and its klines are the UTC grid."""
        pair, kline = pair_of(symbol), plan(interval)
        if n_bars <= 0:
            return []
        if not interval.seconds:
            return (await self._pages_back(pair, kline, n_bars, None))[-n_bars:]
        newest = interval.align(int(self._clock()))
        native = await self._windows(pair, kline, newest - (n_bars - 1) * interval.seconds, None)
        bars = _finish(kline, native)
        while len(bars) < n_bars and native:
            older = await self._pages_back(pair, kline, (n_bars - len(bars)) * _ratio(kline), native[0].time)
            if not older:
                break
            native = older + native
            bars = _finish(kline, native)
        return bars[-n_bars:]

    async def fetch_range(self, symbol: Symbol, interval: Interval, start: int, end: int, *,
                          hours: TradingHours | None = None) -> list[OHLCVBar]:
        pair, kline = pair_of(symbol), plan(interval)
        if start > end:
            return []
        first, stop = interval.align(max(start, 0)), interval.next_open(interval.align(end))
        page = await self._page(pair, kline, first, stop)
        if len(page) == PAGE and interval.seconds:
            page += await self._windows(pair, kline, page[-1].time + kline.native.seconds, stop)
        elif len(page) == PAGE:
            page += await self._pages_forward(pair, kline, page[-1].time + 1, stop)
        return [bar for bar in _finish(kline, page) if start <= bar.time <= end]

    # --- pages -------------------------------------------------------------------------------------------

    async def _page(self, pair: str, kline: KlinePlan, start: int | None, stop: int | None,
                    limit: int = PAGE) -> list[OHLCVBar]:
        """Klines opening in [start, stop) (either bound may be open), at most `limit`: from `start` forward,
        or the newest before `stop` when only `stop` is given."""
        params: dict[str, str | int] = {"symbol": pair, "interval": kline.code, "limit": limit}
        if start is not None:
            params["startTime"] = start * 1000
        if stop is not None:
            params["endTime"] = stop * 1000 - 1
        async with self._slots:
            rows = await self._rest.get("/v3/klines", params, KLINES_WEIGHT)
        return parse_klines(rows if isinstance(rows, list) else [], kline.native)

    async def _windows(self, pair: str, kline: KlinePlan, first: int, stop: int | None) -> list[OHLCVBar]:
        """Every kline opening in [first, stop) (stop None: up to the newest), fetched in windows at once."""
        span = PAGE * kline.native.seconds
        last = stop if stop is not None else kline.native.align(int(self._clock())) + kline.native.seconds
        starts = range(first, last, span)
        bounds = [(s, min(s + span, last) if stop is not None or s + span < last else None) for s in starts]
        pages = await asyncio.gather(*(self._page(pair, kline, s, e) for s, e in bounds))
        bars = [bar for page in pages for bar in page]
        if stop is None and pages and len(pages[-1]) == PAGE:  # the clock lagged the exchange: more came
            bars += await self._pages_forward(pair, kline, bars[-1].time + 1, None)
        return bars

    async def _pages_forward(self, pair: str, kline: KlinePlan, start: int, stop: int | None) -> list[OHLCVBar]:
        return await _collect(lambda after: self._page(pair, kline, after, stop), start,
                              lambda page: page[-1].time + 1)

    async def _pages_back(self, pair: str, kline: KlinePlan, count: int, before: int | None) -> list[OHLCVBar]:
        """Up to `count` klines opening before `before` (None: the newest), oldest first."""
        pages: list[list[OHLCVBar]] = []
        while count > 0:
            page = await self._page(pair, kline, None, before, min(PAGE, count))
            if not page:
                break
            pages.append(page)
            count -= len(page)
            before = page[0].time
        return [bar for page in reversed(pages) for bar in page]


async def _collect(fetch: Callable[[int], Awaitable[list[OHLCVBar]]], start: int,
                   after: Callable[[list[OHLCVBar]], int]) -> list[OHLCVBar]:
    bars: list[OHLCVBar] = []
    while True:
        page = await fetch(start)
        bars += page
        if len(page) < PAGE:
            return bars
        start = after(page)


def _ratio(kline: KlinePlan) -> int:
    return kline.interval.seconds // kline.native.seconds if kline.native.seconds else 1


def _finish(kline: KlinePlan, native: Sequence[OHLCVBar]) -> list[OHLCVBar]:
    bars = compose(native, kline.native, kline.interval) if kline.composite else list(native)
    return list({bar.time: bar for bar in bars}.values())
