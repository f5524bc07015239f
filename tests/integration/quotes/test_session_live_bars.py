"""Live bars of a session symbol (NASDAQ:AAPL) against the simulator over real sockets, read and synced through
HTTP: built on the symbol's calendar from its metadata, a pre-market trade in no bar, and every live bar equal
to the source's bar of the same key, so a sync afterwards changes nothing but the forming bar."""

import time
from datetime import date, timedelta

import httpx
import pytest

from src.domain.market_data import Instrument, Interval, OHLCVBar, Symbol
from tests.integration.quotes.conftest import until

pytestmark = pytest.mark.integration
AAPL = Instrument("tradingview", Symbol("NASDAQ", "AAPL"))
TICKER = AAPL.symbol.ticker
M1, M5, H1, D1 = Interval.M1, Interval.M5, Interval.H1, Interval.D1


def session_open(sim) -> int:
    """The open of a whole NASDAQ session at least two days ahead (never inside the generated history)."""
    hours = sim.market.specs[TICKER].hours
    day = date.fromtimestamp(time.time()) + timedelta(days=2)
    while (found := hours.session(day)) is None or found[1] - found[0] != 23_400:
        day += timedelta(days=1)
    return found[0]


def source_bar(sim, interval: Interval, bar_time: int) -> OHLCVBar:
    row = next(r for r in sim.market.history(TICKER, interval) if int(r[0]) == bar_time)
    return OHLCVBar(interval, bar_time, *row[1:6])


async def trade(live, when: int, price: float, total: float) -> None:
    await live.sim.push_tick(TICKER, price, total, when=when)
    await until(lambda: (q := live.service.latest_quote(AAPL)) is not None and q.time == when and q.price == price)


async def test_live_bars_of_a_session_symbol_agree_with_the_sources_and_a_sync_keeps_them(live, served):
    opened = session_open(live.sim)
    live.clock.value = opened - 900
    await live.service.subscribe([AAPL], intervals=[D1])
    await trade(live, opened - 600, 99.0, 1_000.0)  # 09:20 New York: pre-market
    for offset, price, total in ((60, 100.0, 1_100.0), (600, 101.5, 1_130.0), (2_400, 98.0, 1_180.0),
                                 (3_540, 100.5, 1_200.0), (3_660, 102.0, 1_260.0), (4_800, 103.0, 1_300.0),
                                 (7_140, 101.0, 1_340.0), (7_260, 104.0, 1_360.0)):
        await trade(live, opened + offset, price, total)
    await live.service.drain()
    hours = [live.stored(AAPL, H1)[t] for t in (opened, opened + 3_600)]  # 09:30 and 10:30 New York
    assert hours == [source_bar(live.sim, H1, opened), source_bar(live.sim, H1, opened + 3_600)]
    assert hours[0].open == 100.0 and hours[0].volume == 200.0  # from 09:31: the pre-market trade in no bar
    fives = {t: bar for t, bar in live.stored(AAPL, M5).items() if t >= opened}
    assert fives and fives == {t: source_bar(live.sim, M5, t) for t in fives}
    daily = live.service.current_bar(AAPL, D1)
    assert daily.bar == source_bar(live.sim, D1, opened) and not daily.closed  # the day opened at 09:30
    assert live.service.status().out_of_session_ticks_total == 1

    live.clock.value = opened + 7_270
    async with httpx.AsyncClient(base_url=served.url, timeout=10) as http:
        response = await http.post("/api/v1/market-data/sync", json={"exchange": "NASDAQ", "symbol": "AAPL",
                                                                     "interval": "1h", "n_bars": 3})
        assert response.status_code == 200, response.text
        assert response.json()["bars_written"] == 1  # only the forming 11:30 bar: the live ones were the source's
        body = (await http.get("/api/v1/market-data/ohlcv/NASDAQ/AAPL",
                               params={"interval": "1h", "start": opened, "end": opened + 3_600})).json()
    assert [(b["timestamp"], b["open"], b["close"], b["volume"]) for b in body["bars"]] == [
        (h.time, h.open, h.close, h.volume) for h in hours]
