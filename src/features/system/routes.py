"""Operational routes: health of every component, and the scheduled jobs."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from src.common.errors import NotFound
from src.common.ports import JobRunner
from src.features.shared.dependencies import LifecycleDep
from src.features.shared.responses import OrjsonResponse

router = APIRouter(tags=["system"])


def _jobs(request: Request) -> JobRunner:
    jobs: JobRunner = request.app.state.jobs
    return jobs


JobsDep = Annotated[JobRunner, Depends(_jobs)]


@router.get("/health")
async def health(request: Request, lifecycle: LifecycleDep) -> OrjsonResponse:
    """Runs each component's check with a timeout: 200 when all are up, 503 naming what is down."""
    results = await lifecycle.health(request.app.state.settings.health_check_timeout_s)
    down = [r.name for r in results if not r.healthy]
    body = {
        "status": "degraded" if down else "ok",
        "down": down,
        "components": {r.name: {"healthy": r.healthy, "detail": r.detail} for r in results},
    }
    return OrjsonResponse(body, status_code=503 if down else 200)


@router.get("/api/v1/jobs")
async def list_jobs(jobs: JobsDep) -> list[dict[str, Any]]:
    """Each scheduled job with its trigger, next run, and last run's outcome."""
    return jobs.status()


@router.post("/api/v1/jobs/{name}/run")
async def run_job(name: str, jobs: JobsDep) -> dict[str, Any]:
    """Run a job now (under the same cross-worker lock as scheduled runs)."""
    if name not in jobs.names:
        raise NotFound(f"no job named {name!r}; jobs: {', '.join(jobs.names)}", field="name")
    run = await jobs.run(name)
    return {"name": name, "outcome": run.outcome, "started_at": run.started_at,
            "finished_at": run.finished_at, "detail": run.detail}


@router.get("/api/v1/webhooks/dead-letters")
async def webhook_dead_letters(
    request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[dict[str, Any]]:
    """Webhook deliveries that failed after their last retry, newest first."""
    letters = await request.app.state.dead_letters.list(limit)
    return [
        {"delivery_id": d.delivery_id, "url": d.url, "event_type": d.event_type, "attempts": d.attempts,
         "error": d.error, "correlation_id": d.correlation_id, "failed_at": d.failed_at,
         "body": d.body.decode("utf-8", "replace")}
        for d in letters
    ]
