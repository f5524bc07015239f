"""Live bars of a session symbol through the Mediator with fakes: built on the symbol's calendar (stored at the
synced bar's key), pre-market ticks in no bar and counted, history asked on the same calendar, and an outage
backfilled from the bar holding the last trade.

NASDAQ on Monday 2023-11-27 (EST, UTC-5): the session opens 14:30 UTC; its 1h bars open at 14:30, 15:30 ..."""

from calendar import timegm

from src.common.ports import SymbolInfo
from src.domain.market_data import Instrument, Interval, OHLCVBar, QuoteTick, Symbol
from src.features.quotes.messages import SubscribeQuotesCommand
from tests.unit.quotes.conftest import QuotesWorld

AAPL = Instrument("tradingview", Symbol("NASDAQ", "AAPL"))
OPEN = timegm((2023, 11, 27, 14, 30, 0))
M5, H1 = Interval.M5, Interval.H1
INFO = SymbolInfo(AAPL.symbol, "Apple Inc.", "stock", "USD", "America/New_York", "0930-1600")


def tick(time: float, price: float, volume: float) -> QuoteTick:
    return QuoteTick(AAPL.symbol, time, price, volume)


async def subscribed(at: float) -> QuotesWorld:
    world = QuotesWorld(live_bar_intervals=["5m", "1h"])
    world.provider.infos[AAPL.symbol] = INFO
    friday = OPEN - 3 * 86_400
    world.provider.add_bars_at(AAPL.symbol, M5, [friday + 6 * 3_600 + 1_500])  # Friday 15:55 New York
    world.provider.add_bars_at(AAPL.symbol, H1, [friday + 6 * 3_600] + ([OPEN] if at >= OPEN else []))
    world.clock.value = at
    await world.service.start()
    await world.mediator.send(SubscribeQuotesCommand((AAPL,)))
    await world.service.drain()
    return world


async def test_live_bars_are_built_on_the_symbols_calendar_and_stored_at_its_keys():
    world = await subscribed(OPEN - 600)
    try:
        await world.feed.push(tick(OPEN - 300, 99.0, 1_000.0))  # 09:25: pre-market
        await world.feed.push(tick(OPEN + 10, 100.0, 1_100.0))
        await world.feed.push(tick(OPEN + 1_900, 102.0, 1_150.0))  # 10:01:40
        await world.feed.push(tick(OPEN + 3_601, 101.0, 1_160.0))  # 10:30:01: closes the 09:30 hour
        await world.service.drain()
        hour = world.stored(AAPL, H1)[OPEN]
        # The pre-market tick's total is the reference: the 100 traded between it and the first session tick go
        # to that tick's bar (the Volume rule), the 1,000 before it to none.
        assert (hour.open, hour.high, hour.close, hour.volume) == (100.0, 102.0, 102.0, 150.0)
        assert not hour.partial  # tracked since Friday's bar was seeded: built from its start
        assert OPEN - 1_800 not in world.stored(AAPL, H1)  # nothing at the UTC hour
        status = world.service.status()
        assert status.out_of_session_ticks_total == 1 and status.symbols[0].out_of_session_ticks == 1
    finally:
        await world.service.stop()


async def test_history_is_asked_on_the_symbols_calendar_and_seeds_the_sessions_bar():
    world = await subscribed(OPEN + 30)
    try:
        hours = [h for h in world.provider.hours if h is not None]
        assert hours and all(h.calendar.bar_of(OPEN, H1) == OPEN for h in hours)
        seeded = world.service.current_bar(AAPL, H1)
        assert seeded is not None and seeded.bar.time == OPEN and not seeded.closed
    finally:
        await world.service.stop()


async def test_an_off_calendar_bar_from_history_is_neither_seeded_nor_stored():
    world = QuotesWorld(live_bar_intervals=["1h"])
    world.provider.infos[AAPL.symbol] = INFO
    world.provider.bars[(AAPL.symbol, H1)] = [OHLCVBar(H1, OPEN - 1_800, 1, 1, 1, 1)]  # 14:00 UTC: the grid
    world.clock.value = OPEN + 30
    await world.service.start()
    try:
        await world.mediator.send(SubscribeQuotesCommand((AAPL,)))
        await world.service.drain()
        assert world.stored(AAPL, H1) == {} and world.service.current_bar(AAPL, H1) is None
    finally:
        await world.service.stop()
