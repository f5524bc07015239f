"""Handlers of the system slice: health of every component and the scheduled jobs."""

from dataclasses import dataclass
from typing import Any

from src.common.errors import NotFound
from src.common.ports import ComponentHealth, HealthCheck, JobRunner
from src.features.system.messages import GetHealthQuery, ListJobsQuery, RunJobCommand


@dataclass(frozen=True, slots=True)
class HealthReport:
    components: list[ComponentHealth]

    @property
    def down(self) -> list[str]:
        return [c.name for c in self.components if not c.healthy]


class GetHealthHandler:
    def __init__(self, health: HealthCheck, timeout_s: float) -> None:
        self._health = health
        self._timeout_s = timeout_s

    async def __call__(self, query: GetHealthQuery) -> HealthReport:
        return HealthReport(await self._health.health(self._timeout_s))


class ListJobsHandler:
    def __init__(self, jobs: JobRunner) -> None:
        self._jobs = jobs

    async def __call__(self, query: ListJobsQuery) -> list[dict[str, Any]]:
        return await self._jobs.status()


class RunJobHandler:
    """Runs a job now, unless a run of it (scheduled or not, in any process) holds it."""

    def __init__(self, jobs: JobRunner) -> None:
        self._jobs = jobs

    async def __call__(self, command: RunJobCommand) -> Any:
        if command.name not in self._jobs.names:
            raise NotFound(f"no job named {command.name!r}; jobs: {', '.join(self._jobs.names)}", field="name")
        return await self._jobs.run(command.name)
