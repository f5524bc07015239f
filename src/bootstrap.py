"""The composition root: the one place that builds adapters, handlers and subscribers and wires them.

The app factory and the tests both build through `Container`; tests override providers to pass fakes.
Nothing here runs at import: providers are only called when the app starts.
"""

from dependency_injector import containers, providers

from src.common.clock import SystemClock
from src.common.event_bus import EventBus
from src.common.lifecycle import Component, Lifecycle
from src.common.mediator import Mediator
from src.infrastructure.config.settings import Settings


def _handlers() -> dict[type, object]:
    return {}


def _components() -> list[Component]:
    return []


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    clock = providers.Singleton(SystemClock)
    event_bus = providers.Singleton(EventBus)
    mediator = providers.Singleton(Mediator, providers.Callable(_handlers))
    lifecycle = providers.Singleton(Lifecycle, providers.Callable(_components))
