"""HTTP routes of the webhooks slice."""

from typing import Annotated, Any

from fastapi import APIRouter, Query

from src.common.time_format import iso_utc
from src.features.shared.dependencies import MediatorDep
from src.features.webhooks.messages import ListDeadLettersQuery

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])


@router.get("/dead-letters")
async def dead_letters(
    mediator: MediatorDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[dict[str, Any]]:
    """Webhook deliveries that failed after their last retry, newest first."""
    letters = await mediator.send(ListDeadLettersQuery(limit))
    return [
        {"delivery_id": d.delivery_id, "url": d.url, "event_type": d.event_type, "attempts": d.attempts,
         "error": d.error, "correlation_id": d.correlation_id, "failed_at": iso_utc(d.failed_at),
         "body": d.body.decode("utf-8", "replace")}
        for d in letters
    ]
