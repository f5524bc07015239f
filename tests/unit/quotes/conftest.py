from collections.abc import AsyncIterator

import pytest

from src.common.event_bus import EventBus
from src.common.injection import inject
from src.common.mediator import Mediator
from src.domain.events import BarCompletedEvent, QuoteReceivedEvent
from src.domain.market_data import Interval, QuoteTick, Symbol
from src.features.quotes.handlers import HANDLERS
from src.features.quotes.service import QuoteService
from tests.fakes import FakeCache, FakeClock, FakeOHLCVRepository, FakeQuoteFeed

BTC = Symbol("BINANCE", "BTCUSDT")
ETH = Symbol("BINANCE", "ETHUSDT")
BAD = Symbol("BINANCE", "NOPE")
T0 = 1_700_006_400  # 00:00 UTC: aligned for every interval up to 1d


def tick(time: float, price: float, volume: float | None = None, symbol: Symbol = BTC) -> QuoteTick:
    return QuoteTick(symbol, time, price, volume)


class RecordingCache(FakeCache):
    def __init__(self) -> None:
        super().__init__()
        self.sets: list[str] = []

    async def set(self, key, value, ttl_seconds):
        self.sets.append(key)
        await super().set(key, value, ttl_seconds)


class World:
    """The quotes slice wired with fakes, the way the composition root wires it with real adapters."""

    def __init__(self, intervals=(Interval.M1, Interval.M5)) -> None:
        self.clock = FakeClock(T0)
        self.feed = FakeQuoteFeed(unknown={BAD})
        self.bars = FakeOHLCVRepository()
        self.cache = RecordingCache()
        self.event_bus = EventBus()
        self.events: list = []
        self.event_bus.subscribe(QuoteReceivedEvent, self.events.append)
        self.event_bus.subscribe(BarCompletedEvent, self.events.append)
        self.service = QuoteService(self.feed, self.bars, self.cache, self.event_bus, self.clock,
                                    intervals=intervals, close_every_s=3600, close_grace_s=2.0)
        deps = dict(quote_service=self.service, cache=self.cache)
        self.mediator = Mediator({message: inject(handler, deps) for message, handler in HANDLERS.items()})

    def completed(self) -> list[BarCompletedEvent]:
        return [e for e in self.events if isinstance(e, BarCompletedEvent)]

    def stored(self, symbol: Symbol, interval: Interval) -> dict:
        from src.domain.market_data import SeriesKey

        return self.bars.series.get(SeriesKey(symbol, interval), {})


@pytest.fixture
async def world() -> AsyncIterator[World]:
    w = World()
    await w.service.start()
    try:
        yield w
    finally:
        await w.service.stop()
