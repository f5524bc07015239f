"""HTTP routes of the webhooks slice."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from src.features.shared.dependencies import MediatorDep
from src.features.webhooks.messages import (
    ListDeadLettersQuery,
    RedeliverDeadLetterCommand,
    RedeliverDeadLettersCommand,
)
from src.features.webhooks.schemas import DeadLetterBody, RedeliveryBody

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
DeliveryId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="the `delivery_id` of a dead letter")]


@router.get("/dead-letters")
async def dead_letters(
    mediator: MediatorDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[DeadLetterBody]:
    """Webhook deliveries that failed after their last retry, newest first."""
    return [DeadLetterBody.of(d) for d in await mediator.send(ListDeadLettersQuery(limit))]


@router.post("/dead-letters/redeliver", status_code=status.HTTP_202_ACCEPTED)
async def redeliver_all(
    mediator: MediatorDep, limit: Annotated[int, Query(ge=1, le=10_000)] = 1000
) -> RedeliveryBody:
    """Queue every dead letter (up to `limit`, newest first) for delivery again; those whose URL is no longer
    configured stay dead letters."""
    report = await mediator.send(RedeliverDeadLettersCommand(limit))
    return RedeliveryBody(redelivered=report.redelivered, not_redelivered=report.not_redelivered)


@router.post("/dead-letters/{delivery_id}/redeliver", status_code=status.HTTP_202_ACCEPTED, responses={
    404: {"description": "no dead letter with this id"},
    409: {"description": "its URL is not a configured webhook URL (any more)"},
})
async def redeliver(delivery_id: DeliveryId, mediator: MediatorDep) -> DeadLetterBody:
    """Queue one dead letter for delivery again (same delivery id and body, attempts from zero); it leaves the
    dead letters."""
    return DeadLetterBody.of(await mediator.send(RedeliverDeadLetterCommand(delivery_id)))
