"""The Yahoo Finance adapter against the Yahoo simulator over real sockets, at a fixed clock (Tuesday
2025-12-02 10:00 New York, a week after Thanksgiving): every interval stamped on the symbol's calendar built
from its resolved sessions, as the service passes it (composites checked against pandas over the simulator's
1m rows, per session), paging within Yahoo's limits, the crumb, 429, timeouts, symbols and sessions (a
`SessionCalendar` built from them agrees with the exchange's), search and polled quotes."""

import asyncio
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from simulators.yahoo import YahooSimulator
from src.common.errors import SourceUnavailable, SymbolNotFound, UpstreamUnavailable
from src.domain.market_data import Interval, OHLCVBar, QuoteTick, SessionCalendar, Symbol
from src.domain.market_data.trading_hours import TradingHours
from src.infrastructure.timezones import time_zone_rules
from tests.integration.providers.sources import YahooParts, get_json

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
NOW = datetime(2025, 12, 2, 15, 0, tzinfo=UTC).timestamp()
DAY = 86_400
AAPL, VOD, BTC, SPX = (Symbol("YAHOO", c) for c in ("AAPL", "VOD.L", "BTC-USD", "^GSPC"))
NATIVE_INTRADAY = {Interval.M1: "1m", Interval.M5: "5m", Interval.M15: "15m", Interval.M30: "30m", Interval.H1: "60m"}
COMPOSED = {Interval.M3: 40, Interval.M45: 40, Interval.H2: 25, Interval.H3: 20, Interval.H4: 15}
PERIODIC = {Interval.D1: "1d", Interval.W1: "1wk", Interval.MN1: "1mo"}


@pytest.fixture
async def sim():
    simulator = YahooSimulator(clock=lambda: NOW)
    await simulator.start("127.0.0.1", 0)
    yield simulator
    await simulator.stop()


@pytest.fixture
async def yahoo(sim):
    parts = YahooParts(sim)
    yield parts
    await parts.close()


async def raw_rows(sim: YahooSimulator, ticker: str, code: str, first: int, stop: int, span_days: int = 7):
    """The simulator's own non-null rows, fetched directly in windows (the reference)."""
    rows = {}
    for start in range(first, stop, span_days * DAY):
        body = await get_json(f"{sim.base_url}/v8/finance/chart/{ticker}", period1=start,
                              period2=min(start + span_days * DAY, stop), interval=code)
        result = body["chart"]["result"][0]
        quote = result["indicators"]["quote"][0]
        for i, t in enumerate(result.get("timestamp", [])):
            if quote["open"][i] is not None:
                rows[t] = (quote["open"][i], quote["high"][i], quote["low"][i], quote["close"][i],
                           float(quote["volume"][i] or 0))
    return dict(sorted(rows.items()))


async def hours_of(yahoo: YahooParts, ticker: str) -> TradingHours:
    """The calendar the service builds from the symbol's resolved sessions."""
    info = await yahoo.symbols.resolve_symbol(Symbol("YAHOO", ticker))
    built = SessionCalendar.from_tradingview(time_zone_rules(info.timezone, 1990, 2030), info.session,
                                             info.extra.get("session_holidays", ""),
                                             info.extra.get("session-correction", ""))
    return TradingHours(built)


def session_resampled(sim: YahooSimulator, ticker: str, minutes: dict, interval: Interval) -> list[tuple]:
    """pandas over 1m rows, each session resampled from its own open, stamped at that open."""
    inst = sim.instruments[ticker]
    frame = pd.DataFrame(list(minutes.values()), columns=["open", "high", "low", "close", "volume"],
                         index=pd.to_datetime(list(minutes), unit="s", utc=True))
    first, last = min(minutes), max(minutes)
    out = []
    for session in inst.calendar.sessions_between(first, last + 1):
        part = frame[(frame.index >= pd.Timestamp(session.start, unit="s", tz="UTC"))
                     & (frame.index < pd.Timestamp(session.end, unit="s", tz="UTC"))]
        if part.empty:
            continue
        agg = part.resample(f"{interval.seconds}s", origin=pd.Timestamp(session.start, unit="s", tz="UTC"),
                            label="left", closed="left").agg(
            {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}).dropna()
        out += [(int(t.timestamp()), *row) for t, row in zip(agg.index, agg.itertuples(index=False), strict=True)]
    return out


def as_rows(bars: list[OHLCVBar]) -> list[tuple]:
    return [(b.time, b.open, b.high, b.low, b.close, b.volume) for b in bars]


def close_enough(ours: list[tuple], theirs: list[tuple]) -> None:
    assert [r[:5] for r in ours] == [r[:5] for r in theirs]
    assert [r[5] for r in ours] == pytest.approx([r[5] for r in theirs], rel=1e-12)


# --- history --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("interval", list(NATIVE_INTRADAY), ids=lambda i: i.code)
async def test_native_intraday_intervals_are_yahoos_rows_with_yahoos_session_stamps(yahoo, sim, interval):
    bars = await yahoo.history.fetch_bars(AAPL, interval, 200, hours=await hours_of(yahoo, "AAPL"))
    assert len(bars) == 200
    rows = await raw_rows(sim, "AAPL", NATIVE_INTRADAY[interval], bars[0].time, bars[-1].time + 2 * interval.seconds)
    close_enough(as_rows(bars), list((t, *row) for t, row in rows.items()))
    if interval is Interval.H1:  # 09:30, 10:30 ... New York: kept at the session's own stamps
        assert {datetime.fromtimestamp(b.time, ZoneInfo("America/New_York")).minute for b in bars} == {30}


async def test_without_a_calendar_bars_are_stamped_as_24x7_utc_on_the_grid(yahoo, sim):
    bars = await yahoo.history.fetch_bars(AAPL, Interval.H1, 20)
    assert {b.time % 3_600 for b in bars} == {0}


@pytest.mark.parametrize("ticker", ["AAPL", "VOD.L"])
@pytest.mark.parametrize("interval", list(COMPOSED), ids=lambda i: i.code)
async def test_composite_intervals_equal_pandas_resampling_each_session_from_its_open(sim, yahoo, interval, ticker):
    bars = await yahoo.history.fetch_bars(Symbol("YAHOO", ticker), interval, COMPOSED[interval],
                                          hours=await hours_of(yahoo, ticker))
    assert len(bars) == COMPOSED[interval]
    minutes = await raw_rows(sim, ticker, "1m", bars[0].time, bars[-1].time + 2 * interval.seconds)
    reference = [r for r in session_resampled(sim, ticker, minutes, interval) if bars[0].time <= r[0]]
    close_enough(as_rows(bars), reference[:len(bars)])


@pytest.mark.parametrize("interval", list(PERIODIC), ids=lambda i: i.code)
@pytest.mark.parametrize("ticker", ["AAPL", "BTC-USD", "VOD.L"])
async def test_daily_and_longer_bars_are_stamped_at_their_periods_first_session_open(yahoo, sim, interval, ticker):
    hours = await hours_of(yahoo, ticker)
    bars = await yahoo.history.fetch_bars(Symbol("YAHOO", ticker), interval, 60, hours=hours)
    assert len(bars) == 60
    exchange = sim.instruments[ticker].calendar
    rows = await raw_rows(sim, ticker, PERIODIC[interval], bars[0].time - 2 * DAY, int(NOW) + 60, span_days=40_000)

    def first_open(t: int) -> int:
        """The period of the row's local date, its first session by the resolved calendar (which knows the
        holidays of Yahoo's last month only: older weeks and months keep a holiday's would-be open)."""
        opened = hours.calendar.period_open(exchange.local_date(t), interval)
        assert opened is not None
        return opened

    close_enough(as_rows(bars), [(first_open(t), *row) for t, row in rows.items()][-60:])
    if interval is Interval.D1:  # each day at its own session's open, the half day included
        assert [b.time for b in bars] == [exchange.session(exchange.local_date(b.time)).start for b in bars]


async def test_an_index_ticker_with_a_caret_is_fetched_and_has_no_volume(yahoo):
    bars = await yahoo.history.fetch_bars(SPX, Interval.D1, 20)
    assert len(bars) == 20 and {b.volume for b in bars} == {0.0}


async def test_a_1m_range_longer_than_a_request_is_fetched_in_windows_and_whole(yahoo, sim):
    start, end = int(NOW) - 20 * DAY, int(NOW)
    bars = await yahoo.history.fetch_range(AAPL, Interval.M1, start, end)
    assert sim.request_count("/v8/finance/chart/{symbol}") == 3  # 7 days at most each
    rows = await raw_rows(sim, "AAPL", "1m", start, end + 1)
    assert as_rows(bars) == [(t, *row) for t, row in rows.items()]
    by_day = pd.Series([b.time for b in bars]).groupby(lambda i: bars[i].time // DAY).size()
    whole_days = set(by_day.iloc[1:-1])  # the first starts at 10:00, the last is today's first half hour
    assert whole_days == {390, 210}  # whole sessions, and the half day after Thanksgiving


async def test_a_range_beyond_the_lookback_is_clamped_instead_of_refused(yahoo):
    bars = await yahoo.history.fetch_range(AAPL, Interval.M1, int(NOW) - 90 * DAY, int(NOW))
    assert bars and bars[0].time >= NOW - 30 * DAY
    assert await yahoo.history.fetch_range(AAPL, Interval.M5, int(NOW) - 400 * DAY, int(NOW) - 300 * DAY) == []


async def test_an_unknown_or_foreign_symbol_is_symbol_not_found(yahoo, sim):
    sim.faults.unknown_symbols = {"MSFT"}
    with pytest.raises(SymbolNotFound):
        await yahoo.history.fetch_bars(Symbol("YAHOO", "MSFT"), Interval.D1, 5)
    with pytest.raises(SymbolNotFound):
        await yahoo.history.fetch_bars(Symbol("NASDAQ", "AAPL"), Interval.D1, 5)
    with pytest.raises(SymbolNotFound):
        await yahoo.symbols.resolve_symbol(Symbol("YAHOO", "MSFT"))


async def test_the_crumb_is_sent_and_renewed_once_when_yahoo_forgets_it(yahoo, sim):
    sim.faults.require_crumb = "all"
    await yahoo.history.fetch_bars(AAPL, Interval.D1, 5)
    sim.handshake.crumbs.clear()
    await yahoo.history.fetch_bars(AAPL, Interval.D1, 5)
    assert yahoo.http.handshakes == 2 and sim.request_count("/v1/test/getcrumb") == 2


async def test_a_429_blocks_the_source_and_fails_fast_with_retry_after(sim):
    parts = YahooParts(sim, rate_limited_pause_s=30.0)
    sim.faults.force_rate_limit = True
    try:
        with pytest.raises(SourceUnavailable) as limited:
            await parts.history.fetch_bars(AAPL, Interval.D1, 5)
        assert limited.value.source == "yahoo" and limited.value.retry_after_s == 30.0
        sim.faults.force_rate_limit = False
        before = sim.request_count("/v8/finance/chart/{symbol}")
        with pytest.raises(SourceUnavailable):
            await parts.history.fetch_bars(AAPL, Interval.D1, 5)
        assert sim.request_count("/v8/finance/chart/{symbol}") == before
    finally:
        await parts.close()


async def test_a_hanging_yahoo_is_upstream_unavailable_within_the_timeout(sim):
    parts = YahooParts(sim, request_timeout=0.5)
    await parts.http.crumb()
    sim.faults.hang = True
    began = time.monotonic()
    try:
        with pytest.raises(UpstreamUnavailable):
            await parts.history.fetch_bars(AAPL, Interval.D1, 5)
    finally:
        sim.faults.hang = False
        await parts.close()
    assert time.monotonic() - began < 2.0


# --- symbols and sessions -----------------------------------------------------------------------------


async def test_a_stock_resolves_with_its_exchange_zone_and_sessions(yahoo):
    info = await yahoo.symbols.resolve_symbol(AAPL)
    assert (info.description, info.type, info.currency, info.timezone) == ("Apple Inc.", "stock", "USD",
                                                                           "America/New_York")
    assert (info.session, info.extra["session_extended"]) == ("0930-1600", "0400-2000")
    assert "20251127" in info.extra["session_holidays"].split(",")
    assert info.extra["session-correction"] == "0930-1300:20251128"
    assert (info.extra["exchange"], info.extra["adjustment"]) == ("NMS", "split-adjusted; not dividend-adjusted")


@pytest.mark.parametrize("ticker", ["AAPL", "VOD.L", "BTC-USD"])
async def test_a_session_calendar_built_from_the_info_agrees_with_the_exchange(yahoo, sim, ticker):
    info = await yahoo.symbols.resolve_symbol(Symbol("YAHOO", ticker))
    zone = time_zone_rules(info.timezone, 2025, 2025)
    built = SessionCalendar.from_tradingview(zone, info.session, info.extra.get("session_holidays", ""),
                                             info.extra.get("session-correction", ""))
    exchange, tz = sim.instruments[ticker].calendar, ZoneInfo(info.timezone)
    for offset in range(1, 28):
        day = date(2025, 12, 1) - timedelta(days=offset)
        session = exchange.session(day)
        expected = () if session is None else ((session.start, session.end),)
        opens = built.bar_spans(Interval.D1, *_day_bounds(day, tz))
        assert tuple(zip(opens.opens.tolist(), opens.closes.tolist(), strict=True)) == expected, day


def _day_bounds(day: date, zone: ZoneInfo) -> tuple[int, int]:
    start = int(datetime.combine(day, datetime.min.time(), zone).timestamp())
    return start + 1, start + DAY - 2 * 3_600


async def test_crypto_trades_around_the_clock(yahoo):
    info = await yahoo.symbols.resolve_symbol(BTC)
    assert (info.session, info.timezone, info.type) == ("24x7", "UTC", "crypto")


async def test_search_finds_tickers_as_yahoo_symbols_and_filters_by_yahoos_exchange(yahoo):
    found = await yahoo.symbols.search_symbols("apple")
    assert [(m.symbol, m.type) for m in found] == [(AAPL, "stock")]
    assert [m.symbol for m in await yahoo.symbols.search_symbols("vod", exchange="LSE")] == [VOD]
    assert await yahoo.symbols.search_symbols("vod", exchange="NMS") == []


# --- polled quotes ------------------------------------------------------------------------------------


async def test_polled_quotes_start_with_a_snapshot_and_tick_only_on_change():
    clock = {"now": NOW}
    sim = YahooSimulator(clock=lambda: clock["now"])
    await sim.start("127.0.0.1", 0)
    parts = YahooParts(sim, poll_interval_s=0.1)
    ticks: list[QuoteTick] = []

    async def record(tick: QuoteTick) -> None:
        ticks.append(tick)

    parts.feed.add_quote_callback(record)
    try:
        with pytest.raises(SymbolNotFound, match="NOPE"):
            await parts.feed.subscribe([BTC, AAPL, Symbol("YAHOO", "NOPE")])
        assert [t.symbol for t in ticks] == [BTC, AAPL] and parts.feed.subscriptions == [BTC, AAPL]
        await asyncio.sleep(0.35)
        assert len(ticks) == 2 and parts.feed.polls >= 3  # nothing changed: nothing more
        clock["now"] += 120
        await asyncio.sleep(0.3)
        moved = [t for t in ticks[2:] if t.symbol == BTC]
        assert len(moved) == 1 and moved[0].time > ticks[0].time
        sim.faults.require_crumb = "none"  # the reference request has no crumb
        quote = (await get_json(sim.base_url + "/v7/finance/quote", symbols="BTC-USD"))
        assert moved[0].cumulative_volume == quote["quoteResponse"]["result"][0]["regularMarketVolume"]
    finally:
        await parts.close()
        await sim.stop()


async def test_a_failing_poll_marks_the_feed_disconnected_and_its_recovery_a_reconnect(sim):
    parts = YahooParts(sim, poll_interval_s=0.1)
    try:
        await parts.feed.subscribe([BTC])
        sim.faults.error_rate = 1.0
        await asyncio.sleep(0.3)
        assert not parts.feed.connected
        sim.faults.error_rate = 0.0
        await asyncio.sleep(0.3)
        assert parts.feed.connected and parts.feed.reconnect_count == 1
    finally:
        await parts.close()
