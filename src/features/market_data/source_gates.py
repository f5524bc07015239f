"""How many series of one source bulk syncs and scheduled jobs fetch at once: one gate per source, shared by
every bulk request of this process, so two concurrent bulk syncs never double a source's load, and a slow
source never holds up another's series."""

import asyncio


class SourceGates:
    def __init__(self, per_source: int) -> None:
        self.per_source = per_source
        self._gates: dict[str, asyncio.Semaphore] = {}

    def of(self, source: str) -> asyncio.Semaphore:
        gate = self._gates.get(source)
        if gate is None:
            gate = self._gates[source] = asyncio.Semaphore(self.per_source)
        return gate
