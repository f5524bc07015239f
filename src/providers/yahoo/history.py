"""Bar history from the v8 chart endpoint with `period1`/`period2` (epoch seconds, `[period1, period2)`).

- `fetch_range`: the range, widened to whole composite periods (and a day each side for daily rows stamped
  across midnight UTC), clamped to the interval's lookback, is cut into windows of at most `span_days` fetched
  at once; the bars are filtered back to the range.
- `fetch_bars` (newest N): intraday windows page back from now until N bars or the lookback; daily and longer
  ask for a span estimated from N and double it until N bars or the instrument's first trade date.
- Bars are stamped on `hours.calendar` (24x7 UTC without `hours`, see `chart`); with `hours.extended` the
  pre- and post-market rows are asked for too (`includePrePost`).
"""

import asyncio
import time
from collections.abc import Callable

from src.common.errors import SymbolNotFound
from src.domain.market_data import Interval, OHLCVBar, SessionCalendar, Symbol
from src.domain.market_data.trading_hours import ALWAYS_OPEN_HOURS, TradingHours
from src.providers.yahoo.chart import Chart, Row, parse_chart, to_bars
from src.providers.yahoo.config import YahooConfig
from src.providers.yahoo.http import YahooHttp, path_symbol
from src.providers.yahoo.intervals import DAY, ChartPlan, plan

EXCHANGE = "YAHOO"
_DAYS_PER_BAR = {Interval.D1: 1.5, Interval.W1: 7.5, Interval.MN1: 31.0}


def ticker_of(symbol: Symbol) -> str:
    """Yahoo's ticker for `YAHOO:<ticker>`; any other symbol is not one this source names."""
    if symbol.exchange != EXCHANGE:
        raise SymbolNotFound(f"Yahoo Finance symbols are {EXCHANGE}:<ticker> (e.g. YAHOO:AAPL, YAHOO:^GSPC); "
                             f"{symbol} is not one", field="symbol")
    return symbol.code


class YahooHistory:
    def __init__(self, http: YahooHttp, config: YahooConfig, *, clock: Callable[[], float] = time.time) -> None:
        self._http = http
        self._clock = clock
        self._slots = asyncio.Semaphore(config.pages_in_flight)

    async def fetch_range(self, symbol: Symbol, interval: Interval, start: int, end: int, *,
                          hours: TradingHours | None = None) -> list[OHLCVBar]:
        ticker, chart_plan, hours = ticker_of(symbol), plan(interval), hours or ALWAYS_OPEN_HOURS
        if start > end:
            return []
        first, stop = _window(chart_plan, start, end)
        earliest = chart_plan.earliest(self._clock())
        first = first if earliest is None else max(first, earliest)
        stop = min(stop, int(self._clock()) + 60)
        if first >= stop:
            return []
        charts = await asyncio.gather(*(self._chart(ticker, chart_plan, a, b, hours.extended)
                                        for a, b in _spans(chart_plan, first, stop)))
        return [bar for bar in _bars(chart_plan, charts, hours.calendar) if start <= bar.time <= end]

    async def fetch_bars(self, symbol: Symbol, interval: Interval, n_bars: int, *,
                         hours: TradingHours | None = None) -> list[OHLCVBar]:
        ticker, chart_plan, hours = ticker_of(symbol), plan(interval), hours or ALWAYS_OPEN_HOURS
        if n_bars <= 0:
            return []
        if chart_plan.intraday:
            return await self._newest_intraday(ticker, chart_plan, n_bars, hours)
        return await self._newest_periodic(ticker, chart_plan, n_bars, hours)

    async def _newest_intraday(self, ticker: str, chart_plan: ChartPlan, n_bars: int,
                               hours: TradingHours) -> list[OHLCVBar]:
        now = int(self._clock())
        earliest, span = chart_plan.earliest(now), (chart_plan.span_days or 1) * DAY
        assert earliest is not None
        charts: list[Chart] = []
        stop, bars = now + 60, list[OHLCVBar]()
        while stop > earliest and len(bars) <= n_bars:  # one more than asked: the oldest may be cut
            first = max(earliest, stop - span)
            charts.append(await self._chart(ticker, chart_plan, first, stop, hours.extended))
            bars, stop = _bars(chart_plan, charts, hours.calendar), first
        return bars[-n_bars:]

    async def _newest_periodic(self, ticker: str, chart_plan: ChartPlan, n_bars: int,
                               hours: TradingHours) -> list[OHLCVBar]:
        now = int(self._clock())
        days = int(n_bars * _DAYS_PER_BAR[chart_plan.interval]) + 10
        while True:
            chart = await self._chart(ticker, chart_plan, now - days * DAY, now + 60, hours.extended)
            bars = _bars(chart_plan, [chart], hours.calendar)
            first_trade = int(chart.meta.get("firstTradeDate") or 0)
            if len(bars) >= n_bars or now - days * DAY <= first_trade:
                return bars[-n_bars:]
            days *= 2

    async def _chart(self, ticker: str, chart_plan: ChartPlan, first: int, stop: int, extended: bool = False) -> Chart:
        params: dict[str, str | int] = {"period1": first, "period2": stop, "interval": chart_plan.code,
                                        "includePrePost": "true" if extended else "false", "events": "div,split"}
        async with self._slots:
            body = await self._http.get_json(f"/v8/finance/chart/{path_symbol(ticker)}", params, what=ticker)
        return parse_chart(body, ticker)


def _window(chart_plan: ChartPlan, start: int, end: int) -> tuple[int, int]:
    """[period1, period2) holding every row of the bars opening in [start, end]."""
    interval = chart_plan.interval
    if chart_plan.intraday:
        # A session-anchored period stamped at t opens before t + length and lasts length.
        return interval.align(start), interval.align(end) + 2 * interval.seconds
    return interval.align(start) - DAY, interval.next_open(interval.align(end)) + DAY


def _spans(chart_plan: ChartPlan, first: int, stop: int) -> list[tuple[int, int]]:
    if chart_plan.span_days is None:
        return [(first, stop)]
    span = chart_plan.span_days * DAY
    return [(a, min(a + span, stop)) for a in range(first, stop, span)]


def _bars(chart_plan: ChartPlan, charts: list[Chart], trading: SessionCalendar) -> list[OHLCVBar]:
    if not charts:
        return []
    rows: dict[int, Row] = {}
    sessions: set[tuple[int, int]] = set()
    for chart in charts:
        rows.update((row.time, row) for row in chart.rows)
        sessions.update(chart.sessions)
    return to_bars(chart_plan, rows.values(), tuple(sorted(sessions)), charts[0].zone, trading)
