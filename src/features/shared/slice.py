"""How a feature slice declares itself to the composition root.

A slice module exposes one `SLICE = Slice(name, build, routers)`. `build` receives the shared objects
through a Protocol the slice defines (its typed dependencies) and returns the slice's parts: handlers,
event subscribers, scheduled jobs, lifecycle components and the counters it keeps. The root lists the
slices as `tuple[Slice[Core], ...]`, so mypy checks that its `Core` offers what every slice asks for.
"""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter

from src.common.jobs import JobSpec
from src.common.lifecycle import Component

Handler = Callable[[Any], Awaitable[Any]]
Subscriber = Callable[[Any], Awaitable[None] | None]


@dataclass(frozen=True, slots=True)
class Counter:
    """A counter the slice keeps itself, exported as `<name>_total` and read when metrics are scraped."""

    name: str
    documentation: str
    read: Callable[[], float]


@dataclass(frozen=True, slots=True)
class LabeledMetric:
    """A counter (exported as `<name>_total`) or a gauge the slice keeps per value of one label, read when
    metrics are scraped."""

    name: str
    documentation: str
    label: str
    read: Callable[[], dict[str, float]]
    gauge: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class SliceParts:
    handlers: Mapping[type, Handler] = field(default_factory=dict)
    subscribers: Mapping[type, Sequence[Subscriber]] = field(default_factory=dict)
    jobs: Sequence[JobSpec] = ()
    components: Sequence[Component] = ()
    counters: Sequence[Counter] = ()
    labeled: Sequence[LabeledMetric] = ()
    # The slice's own long-lived objects, named, for tests that drive them directly through the root
    # (e.g. a timer pass of the quote service); never read by other slices.
    exposed: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Slice[Deps]:  # contravariant, inferred: `build` only consumes Deps
    name: str
    build: Callable[[Deps], SliceParts]
    routers: Sequence[APIRouter] = ()
