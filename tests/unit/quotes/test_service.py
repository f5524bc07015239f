"""QuoteService through the Mediator with state-recording fakes (no sockets, no sleeps but bounded ones)."""

import asyncio

import pytest

from src.common import cache_keys
from src.common.errors import Conflict, NotFound, SymbolNotFound
from src.domain.errors import InvalidInterval
from src.domain.events import BarCompletedEvent
from src.domain.market_data import Interval, OHLCVBar, SeriesKey
from src.features.quotes.messages import (
    GetAllQuotesQuery,
    GetCurrentBarQuery,
    GetLatestQuoteQuery,
    GetQuoteStatusQuery,
    SetBarIntervalsCommand,
    StartQuotesCommand,
    StopQuotesCommand,
    SubscribeQuotesCommand,
    UnsubscribeQuotesCommand,
)
from tests.fakes import FakeOHLCVRepository
from tests.unit.quotes.conftest import BAD, BTC, ETH, T0, tick
from tests.unit.quotes.conftest import QuotesWorld as World

M1, M5 = Interval.M1, Interval.M5


async def subscribed(world: World, *symbols) -> None:
    await world.mediator.send(SubscribeQuotesCommand(symbols or (BTC,)))


async def test_tick_is_cached_counted_and_readable(world):
    await subscribed(world)
    await world.feed.push(tick(T0 + 5, 100.0, 10.0))
    quote = await world.mediator.send(GetLatestQuoteQuery(BTC))
    assert quote["price"] == 100.0 and quote["symbol"] == "BINANCE:BTCUSDT" and quote["source"] == "tradingview"
    assert world.events == [] and world.service.ticks_received == 1  # counted, never one event per tick
    await world.service.drain()
    assert world.cache.values[cache_keys.latest_quote(BTC)]["price"] == 100.0
    assert world.cache.values[cache_keys.current_bar(BTC, M1)]["closed"] is False


async def test_many_ticks_cost_one_cache_write_per_key_and_the_last_value_lands(world):
    await subscribed(world)
    for i in range(1_000):
        await world.feed.push(tick(T0 + 1, 100.0 + i, 10.0 + i))
    await world.service.drain()
    assert world.cache.sets.count(cache_keys.latest_quote(BTC)) <= 2
    assert world.cache.values[cache_keys.latest_quote(BTC)]["price"] == 1_099.0
    assert world.cache.values[cache_keys.current_bar(BTC, M1)]["close"] == 1_099.0


async def test_crossing_a_boundary_persists_the_bar_then_publishes_bar_completed(world):
    await subscribed(world)
    await world.feed.push(tick(T0 + 1, 100.0, 10.0))
    await world.feed.push(tick(T0 + 30, 105.0, 15.0))
    await world.feed.push(tick(T0 + 61, 101.0, 18.0))
    await world.service.drain()
    # no history to seed it from: the first bar is partial
    assert world.stored(BTC, M1)[T0] == OHLCVBar(M1, T0, 100.0, 105.0, 100.0, 105.0, 5.0, partial=True)
    [event] = world.completed()
    assert event.key == SeriesKey(BTC.symbol, M1, "tradingview") and event.bar.volume == 5.0


async def test_timer_closes_a_bar_whose_period_ended_without_a_further_tick(world):
    await subscribed(world)
    await world.feed.push(tick(T0 + 10, 100.0, 1.0))
    world.clock.value = T0 + 60  # within the grace: not yet
    assert world.service.close_due() == []
    world.clock.value = T0 + 63
    [closed] = world.service.close_due()
    assert (closed.bar.interval, closed.bar.time, closed.closed) == (M1, T0, True)
    await world.service.drain()
    assert T0 in world.stored(BTC, M1)
    current = await world.mediator.send(GetCurrentBarQuery(BTC, M1))
    assert current["closed"] is True and current["timestamp"] == T0


async def test_background_timer_uses_the_injected_clock():
    world = World(live_bar_intervals=["1m"], live_close_every_s=0.01, live_close_grace_s=1.0)
    await world.service.start()
    try:
        await world.service.subscribe([BTC])
        await world.feed.push(tick(T0 + 10, 100.0, 1.0))
        world.clock.value = T0 + 65
        async with asyncio.timeout(2):
            while not world.completed():  # noqa: ASYNC110 - the timer task owns the state
                await asyncio.sleep(0.005)
        assert world.completed()[0].bar.time == T0
    finally:
        await world.service.stop()


async def test_stale_tick_is_ignored_and_counted(world):
    await subscribed(world)
    await world.feed.push(tick(T0 + 61, 100.0, 1.0))
    await world.feed.push(tick(T0 + 30, 999.0, 2.0))  # before the forming 1m bar
    status = await world.mediator.send(GetQuoteStatusQuery())
    assert status.stale_ticks_total == 1 and status.symbols[0].stale_ticks == 1
    current = await world.mediator.send(GetCurrentBarQuery(BTC, M1))
    assert current["high"] == 100.0


async def test_partial_bar_never_overwrites_a_stored_bar_but_fills_an_empty_slot(world):
    synced = OHLCVBar(M5, T0, 50.0, 60.0, 40.0, 55.0, 1_000.0)
    await world.bars.upsert(SeriesKey(BTC.symbol, M5, "tradingview"), [synced])
    await subscribed(world)
    await world.feed.push(tick(T0 + 100, 100.0, 10.0))  # first tick: partial bars at 1m and 5m
    await world.feed.push(tick(T0 + 300, 101.0, 11.0))  # closes both
    await world.service.drain()
    assert world.stored(BTC, M5)[T0] == synced  # the complete synced bar wins
    assert world.stored(BTC, M1)[T0 + 60].close == 100.0  # nothing stored there: the partial bar lands
    assert world.service.status().bars_skipped == 1
    assert [e.key.interval for e in world.completed()] == [M1]  # events describe writes only


async def test_full_period_bar_overwrites_what_is_stored(world):
    await subscribed(world)
    await world.feed.push(tick(T0 + 30, 100.0, 10.0))
    await world.feed.push(tick(T0 + 61, 100.0, 10.0))  # the 1m bar at T0+60 covers its whole period
    await world.bars.upsert(SeriesKey(BTC.symbol, M1, "tradingview"), [OHLCVBar(M1, T0 + 60, 1.0, 1.0, 1.0, 1.0, 1.0)])
    await world.feed.push(tick(T0 + 121, 102.0, 12.0))
    await world.service.drain()
    assert world.stored(BTC, M1)[T0 + 60] == OHLCVBar(M1, T0 + 60, 100.0, 100.0, 100.0, 100.0, 0.0)


async def test_stop_unsubscribes_and_flushes_every_forming_bar():
    world = World()
    await world.mediator.send(StartQuotesCommand((BTC, ETH)))
    await world.feed.push(tick(T0 + 10, 100.0, 1.0))
    await world.feed.push(tick(T0 + 20, 200.0, 1.0, symbol=ETH))
    status = await world.mediator.send(StopQuotesCommand())
    assert not status.running and world.feed.subscribed == [] and world.feed.callbacks == []
    for symbol in (BTC, ETH):
        assert set(world.stored(symbol, M1)) == {T0} and set(world.stored(symbol, M5)) == {T0}
    await world.feed.push(tick(T0 + 30, 300.0, 1.0))  # after stop: ignored
    assert world.stored(BTC, M1)[T0].close == 100.0
    with pytest.raises(Conflict):
        await world.mediator.send(SubscribeQuotesCommand((BTC,)))


async def test_unsubscribe_persists_the_symbols_forming_bars(world):
    await subscribed(world, BTC, ETH)
    await world.feed.push(tick(T0 + 10, 100.0, 1.0))
    remaining = await world.mediator.send(UnsubscribeQuotesCommand((BTC,)))
    assert remaining == [ETH] and world.feed.subscribed == [ETH.symbol]
    await world.service.drain()
    assert T0 in world.stored(BTC, M1)
    with pytest.raises(NotFound):
        await world.mediator.send(GetCurrentBarQuery(BTC, Interval.H1))


async def test_unknown_symbol_raises_and_the_others_stay_subscribed(world):
    with pytest.raises(SymbolNotFound):
        await world.mediator.send(SubscribeQuotesCommand((BTC, BAD)))
    assert world.service.instruments == [BTC]


async def test_latest_quote_falls_back_to_the_cache_then_not_found(world):
    with pytest.raises(NotFound):
        await world.mediator.send(GetLatestQuoteQuery(ETH))
    world.cache.values[cache_keys.latest_quote(ETH)] = {"symbol": "BINANCE:ETHUSDT", "price": 3.0}
    assert (await world.mediator.send(GetLatestQuoteQuery(ETH)))["price"] == 3.0


async def test_all_quotes_lists_the_subscribed_symbols_latest(world):
    await subscribed(world, BTC, ETH)
    await world.feed.push(tick(T0 + 1, 1.0, symbol=ETH))
    await world.feed.push(tick(T0 + 2, 2.0))
    quotes = await world.mediator.send(GetAllQuotesQuery())
    assert [(q["symbol"], q["price"]) for q in quotes] == [("BINANCE:BTCUSDT", 2.0), ("BINANCE:ETHUSDT", 1.0)]


async def test_runtime_interval_change_persists_dropped_bars_and_starts_new_ones(world):
    await subscribed(world)
    await world.feed.push(tick(T0 + 10, 100.0, 1.0))
    intervals = await world.mediator.send(SetBarIntervalsCommand((M1, Interval.H1)))
    assert intervals == (M1, Interval.H1)
    await world.service.drain()
    assert T0 in world.stored(BTC, M5)  # the dropped 5m forming bar was persisted
    await world.feed.push(tick(T0 + 20, 101.0, 2.0))
    current = await world.mediator.send(GetCurrentBarQuery(BTC, Interval.H1))
    assert (current["timestamp"], current["open"], current["closed"]) == (T0, 101.0, False)
    with pytest.raises(InvalidInterval):
        await world.mediator.send(SetBarIntervalsCommand(()))


async def test_subscribe_with_intervals_adds_them(world):
    await world.mediator.send(SubscribeQuotesCommand((BTC,), (Interval.M15,)))
    assert world.service.intervals == (M1, M5, Interval.M15)


async def test_status_reports_connection_symbols_and_last_tick(world):
    await subscribed(world)
    world.feed.reconnect_count = 2
    await world.feed.push(tick(T0 + 7, 100.0, 1.0))
    status = await world.mediator.send(GetQuoteStatusQuery())
    assert status.running and status.connected and status.reconnect_count == 2
    assert status.intervals == (M1, M5)
    [btc] = status.symbols
    assert (btc.instrument, btc.last_tick_time, btc.last_received_at, btc.ticks) == (BTC, T0 + 7, T0, 1)
    assert await world.service.check()
    world.feed.connected = False
    assert not await world.service.check()


class FlakyRepository(FakeOHLCVRepository):
    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def upsert(self, key, bars):
        if self.failures:
            self.failures -= 1
            raise ConnectionError("store down")
        return await super().upsert(key, bars)


async def test_bar_writer_retries_a_failed_write_and_publishes_only_after_it():
    world = World(bars=FlakyRepository(failures=1), live_bar_intervals=["1m"])
    await world.service.start()
    await world.service.subscribe([BTC])
    await world.feed.push(tick(T0 + 1, 100.0, 1.0))
    await world.feed.push(tick(T0 + 61, 100.0, 1.0))
    await world.service.drain()  # fails once: requeued, nothing published
    assert world.completed() == [] and world.service.status().bars_pending == 1
    await world.service.drain()
    assert [e.bar.time for e in world.completed()] == [T0]
    await world.service.stop()
    assert world.service.status().bars_dropped == 0


async def test_start_and_stop_are_idempotent(world):
    await world.service.start()
    await world.mediator.send(StopQuotesCommand())
    await world.mediator.send(StopQuotesCommand())
    status = await world.mediator.send(StartQuotesCommand())
    assert status.running and world.feed.callbacks == []  # a feed is registered on its first subscribe
    await subscribed(world)
    await subscribed(world)
    assert len(world.feed.callbacks) == 1


async def test_bar_completed_event_is_only_for_closed_bars(world):
    await subscribed(world)
    await world.feed.push(tick(T0 + 1, 100.0, 1.0))
    await world.service.stop()
    assert not [e for e in world.events if isinstance(e, BarCompletedEvent)]
    assert T0 in world.stored(BTC, M1)
