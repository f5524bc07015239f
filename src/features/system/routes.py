"""Operational routes: health of every component, and the scheduled jobs."""

from typing import Any

from fastapi import APIRouter

from src.features.shared.dependencies import MediatorDep
from src.features.shared.responses import OrjsonResponse
from src.features.system.messages import GetHealthQuery, ListJobsQuery, RunJobCommand

router = APIRouter(tags=["system"])


@router.get("/health")
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
async def list_jobs(mediator: MediatorDep) -> list[dict[str, Any]]:
    """Each scheduled job with its trigger, next run, and last run's outcome."""
    jobs: list[dict[str, Any]] = await mediator.send(ListJobsQuery())
    return jobs


@router.post("/api/v1/jobs/{name}/run")
async def run_job(name: str, mediator: MediatorDep) -> dict[str, Any]:
    """Run a job now (under the same cross-worker lock as scheduled runs)."""
    run = await mediator.send(RunJobCommand(name))
    return {"name": name, "outcome": run.outcome, "started_at": run.started_at,
            "finished_at": run.finished_at, "detail": run.detail}
