"""Operational routes: health of every component."""

from fastapi import APIRouter, Request

from src.features.shared.dependencies import LifecycleDep
from src.features.shared.responses import OrjsonResponse

router = APIRouter(tags=["system"])


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
