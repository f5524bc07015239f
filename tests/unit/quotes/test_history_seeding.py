"""Live bars caught up with the source's history, through the Mediator with fakes: seeding on subscribe,
backfill of what was missed, outages marked partial then repaired, the partial-bar write rule, and the
feed's own clock for closing."""

import asyncio
import dataclasses

from src.domain.market_data import Interval, OHLCVBar, QuoteTick, SeriesKey
from src.features.quotes.messages import StartQuotesCommand, StopQuotesCommand, SubscribeQuotesCommand
from tests.unit.quotes.conftest import BTC, T0, tick
from tests.unit.quotes.conftest import QuotesWorld as World

M1, M5 = Interval.M1, Interval.M5


def history(world: World, interval: Interval, first: int, count: int) -> list[OHLCVBar]:
    """The source's bars of `interval` from `first`; the last one is its forming bar."""
    return world.provider.add_history(BTC.symbol, interval, first, count)


def key(interval: Interval) -> SeriesKey:
    return SeriesKey(BTC.symbol, interval, "tradingview")


async def test_subscribing_seeds_the_forming_bar_from_history_and_ticks_extend_it(world):
    source = history(world, M1, T0, 1)[0]  # forming at T0
    history(world, M5, T0, 1)
    world.clock.value = T0 + 30
    await world.mediator.send(SubscribeQuotesCommand((BTC,)))
    await world.feed.push(tick(T0 + 31, source.close + 1, 1_000.0))
    await world.feed.push(tick(T0 + 40, source.close + 2, 1_004.0))
    forming = world.service.current_bar(BTC, M1).bar
    assert not forming.partial and forming.open == source.open and forming.volume == source.volume + 4.0
    assert forming.high == max(source.high, source.close + 2) and forming.close == source.close + 2


async def test_a_seeded_bar_is_stored_as_the_source_has_it_once_its_period_is_over(world):
    source = history(world, M1, T0, 1)[0]
    history(world, M5, T0, 1)
    world.clock.value = T0 + 30
    await world.mediator.send(SubscribeQuotesCommand((BTC,)))
    await world.feed.push(tick(T0 + 40, source.close + 2, 1_004.0))
    final = dataclasses.replace(source, close=source.close + 3, high=source.close + 3, volume=source.volume + 7)
    world.provider.bars[(BTC.symbol, M1)] = [final]  # the source's bar, now that the minute is over
    await world.feed.push(tick(T0 + 61, source.close, 1_010.0))
    await world.service.drain()
    assert world.stored(BTC, M1)[T0] == final
    assert [(e.bar.time, e.bar.volume) for e in world.completed()] == [(T0, final.volume)]  # written once
    assert (BTC.symbol, M1, T0, T0) in world.provider.ranges


async def test_a_seeded_bar_is_stored_as_built_when_the_source_cannot_settle_it(world):
    source = history(world, M1, T0, 1)[0]
    history(world, M5, T0, 1)
    world.clock.value = T0 + 30
    await world.mediator.send(SubscribeQuotesCommand((BTC,)))
    await world.feed.push(tick(T0 + 31, source.close + 1, 1_000.0))
    await world.feed.push(tick(T0 + 40, source.close + 2, 1_004.0))
    world.provider.unavailable = True
    await world.feed.push(tick(T0 + 61, source.close, 1_010.0))
    await world.service.drain()
    stored = world.stored(BTC, M1)[T0]
    assert not stored.partial and stored.open == source.open and stored.volume == source.volume + 4.0
    assert [(e.bar.time, e.bar.partial) for e in world.completed()] == [(T0, False)]


async def test_subscribing_backfills_the_series_since_its_last_stored_bar(world):
    bars = history(world, M1, T0, 10)  # T0 .. T0+540, the last forming
    history(world, M5, T0, 2)
    stale = dataclasses.replace(bars[2], close=bars[2].low, partial=True)  # stopped there last time
    await world.bars.upsert(key(M1), [bars[0], bars[1], stale])
    world.clock.value = T0 + 545
    await world.mediator.send(SubscribeQuotesCommand((BTC,)))
    await world.service.drain()
    assert [world.stored(BTC, M1)[b.time] for b in bars[:9]] == bars[:9]  # the partial one replaced
    assert world.service.current_bar(BTC, M1).bar == bars[9]  # the forming bar seeded
    assert [n for _, interval, n in world.provider.fetches if interval is M1] == [8]  # from the stored one


async def test_a_dropped_feed_marks_bars_partial_and_its_reconnect_backfills_and_replaces_them(world):
    history(world, M1, T0, 1)
    history(world, M5, T0, 1)
    world.clock.value = T0 + 5
    await world.mediator.send(SubscribeQuotesCommand((BTC,)))
    await world.feed.push(tick(T0 + 10, 100.0, 1_000.0))
    world.feed.connected = False
    world.clock.value = T0 + 20
    world.service.close_due()  # sees the outage
    world.clock.value = T0 + 185  # three minutes away
    closed = world.service.close_due()
    assert [(u.bar.time, u.bar.partial) for u in closed if u.bar.interval is M1] == [(T0, True)]
    source = history(world, M1, T0, 4)  # what the source has for the outage, the last forming
    history(world, M5, T0, 1)
    world.feed.connected, world.feed.reconnect_count = True, 1
    world.service.close_due()
    await world.service.drain()
    for bar in source[:3]:
        assert world.stored(BTC, M1)[bar.time] == bar  # the straddling bar and the missed ones, complete
    assert world.service.current_bar(BTC, M1).bar == source[3]


async def test_a_partial_bar_never_replaces_a_complete_one_and_a_complete_bar_replaces_a_partial_one(world):
    complete = OHLCVBar(M1, T0, 50.0, 60.0, 40.0, 55.0, 1_000.0)
    partial = OHLCVBar(M1, T0 + 60, 50.0, 60.0, 40.0, 55.0, 1.0, partial=True)
    await world.bars.upsert(key(M1), [complete, partial])
    world.clock.value = T0 + 10
    await world.mediator.send(SubscribeQuotesCommand((BTC,)))  # no history: nothing seeded
    await world.feed.push(tick(T0 + 10, 100.0, 10.0))  # a partial bar at T0
    await world.feed.push(tick(T0 + 61, 101.0, 11.0))  # closes it, opens T0+60 (whole period)
    await world.feed.push(tick(T0 + 121, 102.0, 12.0))  # closes T0+60: complete
    await world.service.drain()
    assert world.stored(BTC, M1)[T0] == complete
    assert world.stored(BTC, M1)[T0 + 60] == OHLCVBar(M1, T0 + 60, 101.0, 101.0, 101.0, 101.0, 1.0)
    assert world.service.status().bars_skipped == 1


async def test_stopping_and_starting_inside_a_bar_ends_with_the_sources_bar():
    world = World()
    history(world, M1, T0, 1)
    history(world, M5, T0, 1)
    world.clock.value = T0 + 5
    await world.mediator.send(StartQuotesCommand((BTC,)))
    await world.feed.push(tick(T0 + 10, 100.0, 1_000.0))
    await world.mediator.send(StopQuotesCommand())
    assert world.stored(BTC, M1)[T0].partial  # a snapshot cut short by the stop
    source = dataclasses.replace(world.provider.bars[(BTC.symbol, M1)][0], close=100.0, high=101.0)
    world.provider.bars[(BTC.symbol, M1)] = [source]
    world.clock.value = T0 + 30
    await world.mediator.send(StartQuotesCommand((BTC,)))
    await world.feed.push(tick(T0 + 61, 99.0, 1_020.0))
    await world.service.drain()
    assert world.stored(BTC, M1)[T0] == source  # seeded again, then closed: complete
    await world.service.stop()


async def test_a_lagging_feed_loses_no_tick_to_the_timer(world):
    await world.mediator.send(SubscribeQuotesCommand((BTC,)))
    for step in range(0, 361):  # a trade every half second, each arriving 3 s after it was made
        world.clock.value = T0 + step / 2 + 3
        await world.feed.push(tick(T0 + step / 2, 100.0, 1_000.0 + step))
        world.clock.value += 0.25
        world.service.close_due()  # a wall-clock timer would close each bar before its last trades came
    assert world.service.status().stale_ticks_total == 0
    await world.service.drain()
    assert world.stored(BTC, M1)[T0 + 60].volume == 120.0  # every tick of the minute counted


async def test_a_delayed_feed_closes_its_bars_by_its_own_clock(world):
    await world.mediator.send(SubscribeQuotesCommand((BTC,)))
    for second in range(0, 181, 10):
        world.clock.value = T0 + 900 + second
        await world.feed.push(QuoteTick(BTC.symbol, T0 + second, 100.0, 1_000.0 + second, delay=900.0))
        world.service.close_due()
    await world.service.drain()
    assert world.service.status().stale_ticks_total == 0
    assert world.stored(BTC, M1)[T0 + 60].volume == 60.0


async def test_webhooks_carry_the_partial_flag_of_completed_bars(world):
    await world.mediator.send(SubscribeQuotesCommand((BTC,)))  # no history: the first bar is not seeded
    await world.feed.push(tick(T0 + 10, 100.0, 1.0))
    await world.feed.push(tick(T0 + 61, 101.0, 2.0))
    await world.feed.push(tick(T0 + 121, 102.0, 3.0))
    await world.service.drain()
    completed = [data["bar"] for kind, data, _, _ in world.webhooks.sent if kind == "bar.completed"
                 and data["interval"] == "1m"]
    assert [(bar["timestamp"], bar["partial"]) for bar in completed] == [(T0, True), (T0 + 60, False)]


async def test_bars_closed_while_history_is_in_flight_are_held_then_written_once_as_the_source_has_them(world):
    history(world, M1, T0, 1)
    history(world, M5, T0, 1)
    world.clock.value = T0 + 5
    await world.mediator.send(SubscribeQuotesCommand((BTC,)))
    await world.feed.push(tick(T0 + 10, 100.0, 1_000.0))
    world.feed.connected = False
    world.service.close_due()  # sees the outage
    world.provider.gate = asyncio.Event()  # the source answers after the ticks below
    world.feed.connected, world.feed.reconnect_count = True, 1
    world.service.close_due()  # the reconnect: its catch-up asks for history
    await world.feed.push(tick(T0 + 40, 103.0, 1_040.0))
    await world.feed.push(tick(T0 + 61, 104.0, 1_050.0))  # closes T0, partial (it straddled the outage)
    assert T0 not in world.stored(BTC, M1) and world.service.status().bars_pending == 0  # held
    source = history(world, M1, T0, 2)  # T0 complete, T0+60 forming: the feed moved on meanwhile
    history(world, M5, T0, 1)
    world.provider.gate.set()
    await world.service.drain()
    assert world.stored(BTC, M1)[T0] == source[0]
    assert [e.bar for e in world.completed() if e.key.interval is M1] == [source[0]]
    assert [n for _, interval, n in world.provider.fetches if interval is M1][-2:] == [1, 2]  # asked again
