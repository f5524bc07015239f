"""HTTP routes of the webhooks slice."""

from typing import Annotated

from fastapi import APIRouter, Query

from src.features.shared.dependencies import MediatorDep
from src.features.webhooks.messages import ListDeadLettersQuery
from src.features.webhooks.schemas import DeadLetterBody

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])


@router.get("/dead-letters")
async def dead_letters(
    mediator: MediatorDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[DeadLetterBody]:
    """Webhook deliveries that failed after their last retry, newest first."""
    return [DeadLetterBody.of(d) for d in await mediator.send(ListDeadLettersQuery(limit))]
