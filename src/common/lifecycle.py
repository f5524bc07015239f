"""Components with a start/stop lifecycle and a health check, started in order and stopped in reverse.

Shutdown has two moments: `begin_shutdown()` as soon as it is asked for (the server calls it on SIGTERM,
before it drains in-flight requests), which tells every component with a `shutdown` hook that its grace
has started; then `stop()` once requests are done, which stops components in reverse order."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

from src.common.ports import ComponentHealth

log = structlog.get_logger("lifecycle")

Action = Callable[[], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class Component:
    name: str
    start: Action | None = None
    stop: Action | None = None
    # Returns normally when healthy; raises or returns False when not.
    check: Callable[[], Awaitable[bool | None]] | None = None
    # Called once when shutdown begins (synchronously, on the event loop), before requests drain.
    shutdown: Callable[[], None] | None = None


class Lifecycle:
    """The root adds every component (its own resources first, then the slices'), starts them in that
    order and stops them in reverse; `health` runs every component's check (the `HealthCheck` port)."""

    def __init__(self, components: list[Component] | None = None, *, stop_timeout_s: float = 10.0) -> None:
        self.components = list(components or ())
        self._started: list[Component] = []
        self._stop_timeout_s = stop_timeout_s
        self.shutting_down = False

    def add(self, *components: Component) -> None:
        self.components.extend(components)

    async def start(self) -> None:
        for component in self.components:
            if component.start is not None:
                log.info("starting component", component=component.name)
                try:
                    await component.start()
                except BaseException:
                    await self.stop()
                    raise
            self._started.append(component)

    def begin_shutdown(self) -> None:
        """Tell the started components that shutdown began (once; `stop` does it if nobody did)."""
        if self.shutting_down:
            return
        self.shutting_down = True
        for component in reversed(self._started):
            if component.shutdown is not None:
                try:
                    component.shutdown()
                except Exception:
                    log.exception("component failed to begin its shutdown", component=component.name)

    async def stop(self) -> None:
        self.begin_shutdown()
        while self._started:
            component = self._started.pop()
            if component.stop is None:
                continue
            try:
                await asyncio.wait_for(component.stop(), self._stop_timeout_s)
                log.info("stopped component", component=component.name)
            except Exception:
                log.exception("component failed to stop cleanly", component=component.name)

    async def health(self, timeout_s: float) -> list[ComponentHealth]:
        checked = [c for c in self.components if c.check is not None]
        results = await asyncio.gather(*(self._check(c, timeout_s) for c in checked))
        return list(results)

    @staticmethod
    async def _check(component: Component, timeout_s: float) -> ComponentHealth:
        assert component.check is not None
        try:
            ok = await asyncio.wait_for(component.check(), timeout_s)
        except TimeoutError:
            return ComponentHealth(component.name, False, f"no answer within {timeout_s}s")
        except Exception as error:
            return ComponentHealth(component.name, False, f"{type(error).__name__}: {error}"[:200])
        if ok is False:
            return ComponentHealth(component.name, False, "unhealthy")
        return ComponentHealth(component.name, True)
