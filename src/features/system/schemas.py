"""HTTP response bodies of the system slice (pydantic): what /health and the job routes answer."""

from typing import Any, Literal

from pydantic import BaseModel


class ComponentHealthBody(BaseModel):
    healthy: bool
    detail: str


class HealthBody(BaseModel):
    status: Literal["ok", "degraded"]
    down: list[str]
    components: dict[str, ComponentHealthBody]


class JobRunBody(BaseModel):
    started_at: float | None
    finished_at: float | None
    outcome: str  # ok | partial | failed | error | skipped | running
    detail: dict[str, Any]


class JobBody(BaseModel):
    name: str
    trigger: str
    next_run: float | None
    running: bool  # a run holds the job now (in any process)
    last_run: JobRunBody | None


class RunJobBody(JobRunBody):
    name: str
