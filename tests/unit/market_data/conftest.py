import pytest

from src.common.event_bus import EventBus
from src.common.injection import inject
from src.common.mediator import Mediator
from src.domain.market_data import Interval, SeriesKey, Symbol
from src.features.market_data.handlers import HANDLERS
from src.features.market_data.series_sync import SeriesSync
from src.features.market_data.subscribers import SUBSCRIBERS
from src.features.market_data.sync_runs import SyncRuns
from tests.fakes import (
    FakeCache,
    FakeClock,
    FakeOHLCVRepository,
    FakeProvider,
    FakeSymbolRepository,
    FakeSyncStatusRepository,
)

BTC = Symbol("BINANCE", "BTCUSDT")
KEY = SeriesKey(BTC, Interval.M1)


class World:
    """The slice wired with fakes, the way the composition root wires it with real adapters."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.provider = FakeProvider()
        self.bars = FakeOHLCVRepository()
        self.sync_status = FakeSyncStatusRepository()
        self.symbols = FakeSymbolRepository()
        self.cache = FakeCache()
        self.event_bus = EventBus()
        self.sync_runs = SyncRuns()
        deps = dict(
            provider=self.provider, bars=self.bars, sync_status=self.sync_status, symbols=self.symbols,
            cache=self.cache, event_bus=self.event_bus, clock=self.clock, sync_runs=self.sync_runs,
            bulk_concurrency=4,
        )
        deps["series_sync"] = inject(SeriesSync, deps)
        self.mediator = Mediator({message: inject(handler, deps) for message, handler in HANDLERS.items()})
        for event_type, subscribers in SUBSCRIBERS.items():
            for subscriber in subscribers:
                self.event_bus.subscribe(event_type, inject(subscriber, deps))


@pytest.fixture
def world() -> World:
    return World()
