"""The system slice: `/health` over every lifecycle component, and the scheduled jobs."""

from typing import Protocol

from src.common.ports import HealthCheck, JobRunner
from src.common.settings import Settings
from src.features.shared.slice import Slice, SliceParts
from src.features.system import handlers as h
from src.features.system import messages as m
from src.features.system.routes import router


class SystemDeps(Protocol):
    @property
    def settings(self) -> Settings: ...
    @property
    def health(self) -> HealthCheck: ...
    @property
    def jobs(self) -> JobRunner: ...


def build(d: SystemDeps) -> SliceParts:
    return SliceParts(handlers={
        m.GetHealthQuery: h.GetHealthHandler(d.health, d.settings.health_check_timeout_s),
        m.ListJobsQuery: h.ListJobsHandler(d.jobs),
        m.RunJobCommand: h.RunJobHandler(d.jobs),
    })


SLICE = Slice("system", build, routers=(router,))
