"""Operational routes: health of every component, and the scheduled jobs."""

from typing import Annotated

from fastapi import APIRouter, Path

from src.features.shared.dependencies import MediatorDep
from src.features.shared.responses import OrjsonResponse
from src.features.system.messages import GetHealthQuery, ListJobsQuery, RunJobCommand
from src.features.system.schemas import HealthBody, JobBody, RunJobBody

router = APIRouter(tags=["system"])


@router.get("/health", response_class=OrjsonResponse, responses={
    200: {"model": HealthBody, "description": "every component is up"},
    503: {"model": HealthBody, "description": "a component is down (named in `down`)"},
})
async def health(mediator: MediatorDep) -> OrjsonResponse:
    """Runs each component's check with a timeout: 200 when all are up, 503 naming what is down."""
    report = await mediator.send(GetHealthQuery())
    body = {
        "status": "degraded" if report.down else "ok",
        "down": report.down,
        "components": {c.name: {"healthy": c.healthy, "detail": c.detail} for c in report.components},
    }
    return OrjsonResponse(body, status_code=503 if report.down else 200)


@router.get("/api/v1/jobs")
async def list_jobs(mediator: MediatorDep) -> list[JobBody]:
    """Each scheduled job with its trigger, next run, and last run's outcome."""
    return [JobBody.model_validate(job) for job in await mediator.send(ListJobsQuery())]


@router.post("/api/v1/jobs/{name}/run", responses={404: {"description": "no job of that name"}})
async def run_job(name: Annotated[str, Path(pattern=r"^[a-z0-9_]{1,64}$")], mediator: MediatorDep) -> RunJobBody:
    """Run a job now; skipped while a run of it (scheduled or not, in any process) holds it."""
    run = await mediator.send(RunJobCommand(name))
    return RunJobBody(name=name, outcome=run.outcome, started_at=run.started_at, finished_at=run.finished_at,
                      detail=run.detail)
