"""The service built through the composition root with every adapter replaced by a state-recording fake
(`tests/fakes.py`): what unit tests drive through the Mediator."""

from collections.abc import Sequence
from typing import Any

from src.app.root import Overrides, Root, bootstrap
from src.common.ports import Provider
from src.common.settings import Settings
from src.domain.events import BarCompletedEvent, BarSyncedEvent, SyncFailedEvent
from src.domain.market_data import Instrument, Interval, SeriesKey, Symbol
from src.infrastructure.scheduling.job_store import InProcessJobStore
from tests.fakes import (
    FakeApiKeyRepository,
    FakeCache,
    FakeClock,
    FakeConsole,
    FakeDeadLetterRepository,
    FakeOHLCVRepository,
    FakePasswordHasher,
    FakeProvider,
    FakeQualityRepository,
    FakeQuoteFeed,
    FakeRefreshTokenRepository,
    FakeRunOwner,
    FakeSymbolMetadataRepository,
    FakeSymbolRepository,
    FakeSyncStatusRepository,
    FakeUserRepository,
    FakeWebhookSender,
    fake_provider,
)

SOURCE = "tradingview"


class World:
    """Fakes plus the root built from them; `events` records the domain events published."""

    def __init__(self, *, clock: FakeClock | None = None, cache: FakeCache | None = None,
                 bars: FakeOHLCVRepository | None = None, unknown: set[Symbol] | None = None,
                 more_providers: Sequence[Provider] = (), **settings: Any) -> None:
        self.clock = clock or FakeClock()
        self.provider = FakeProvider()
        self.feed = FakeQuoteFeed(unknown=unknown)
        self.bars = bars or FakeOHLCVRepository()
        self.sync_status = FakeSyncStatusRepository()
        self.symbols = FakeSymbolRepository()
        self.symbol_metadata = FakeSymbolMetadataRepository()
        self.dead_letters = FakeDeadLetterRepository()
        self.webhooks = FakeWebhookSender()
        self.cache = cache or FakeCache()
        self.owner = FakeRunOwner()
        self.users = FakeUserRepository()
        self.api_keys = FakeApiKeyRepository()
        self.refresh_tokens = FakeRefreshTokenRepository()
        self.console = FakeConsole()
        self.quality = FakeQualityRepository()
        values: dict[str, Any] = {"scheduler_enabled": False, **settings}
        self.root: Root = bootstrap(Settings(**values), Overrides(
            clock=self.clock, providers=[fake_provider(SOURCE, self.provider, self.feed), *more_providers],
            bars=self.bars,
            sync_status=self.sync_status, symbols=self.symbols, symbol_metadata=self.symbol_metadata,
            dead_letters=self.dead_letters,
            job_store=InProcessJobStore(), cache=self.cache, webhooks=self.webhooks, run_owner=self.owner,
            users=self.users, api_keys=self.api_keys, refresh_tokens=self.refresh_tokens,
            passwords=FakePasswordHasher(), console=self.console, quality=self.quality,
        ))
        self.mediator = self.root.mediator
        self.event_bus = self.root.event_bus
        self.events: list[Any] = []
        for event_type in (BarSyncedEvent, SyncFailedEvent, BarCompletedEvent):
            self.event_bus.subscribe(event_type, self.events.append)

    def exposed(self, slice_name: str, name: str) -> Any:
        return self.root.slices[slice_name].exposed[name]

    def completed(self) -> list[BarCompletedEvent]:
        return [e for e in self.events if isinstance(e, BarCompletedEvent)]

    def stored(self, symbol: Symbol, interval: Interval, source: str = SOURCE) -> dict:
        return self.bars.series.get(SeriesKey(symbol, interval, source), {})


def instrument(symbol: Symbol, source: str = SOURCE) -> Instrument:
    return Instrument(source, symbol)
