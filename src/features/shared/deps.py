"""The dependencies most slices read from the root's `Core`, as one Protocol to extend: a slice's own
Protocol inherits this and adds what only it needs."""

from typing import Protocol

from src.common.event_bus import EventBus
from src.common.mediator import Mediator
from src.common.ports import Cache, Clock, OHLCVRepository
from src.common.providers import ProviderRegistry
from src.common.settings import Settings


class SharedDeps(Protocol):
    @property
    def settings(self) -> Settings: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def event_bus(self) -> EventBus: ...
    @property
    def mediator(self) -> Mediator: ...
    @property
    def providers(self) -> ProviderRegistry: ...
    @property
    def bars(self) -> OHLCVRepository: ...
    @property
    def cache(self) -> Cache: ...
