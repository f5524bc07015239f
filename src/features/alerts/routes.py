"""HTTP routes of the alerts slice, `/api/v1/alerts`: an owner's rules and their trigger history.

Who may call them is in the access map (traders and admins); which rules a caller reaches is the handlers'
rule: its own, or everyone's for admins (and when the service runs without authentication)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, status
from starlette.requests import HTTPConnection

from src.common import request_scope
from src.domain.identity import OPEN_OWNER, Permission, Principal
from src.features.alerts import messages as m
from src.features.alerts.schemas import AlertBody, AlertPatch, AlertRequest, AlertTriggerBody
from src.features.shared.dependencies import MediatorDep

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])
_MISSING: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such rule (or not yours)"},
    409: {"description": "the rule kept changing while this was saved: try again"},
}
RuleIdPath = Annotated[str, Path(pattern=r"^[0-9a-f]{16}$")]


async def _actor(connection: HTTPConnection) -> m.AlertActor:
    principal: Principal | None = connection.scope.get(request_scope.PRINCIPAL)
    if principal is None:  # authentication is off: one owner, who sees everything
        return m.AlertActor(OPEN_OWNER, sees_all=True)
    return m.AlertActor(principal.user_id, sees_all=principal.can(Permission.MANAGE_ALL_ALERTS))


ActorDep = Annotated[m.AlertActor, Depends(_actor)]


@router.post("", status_code=status.HTTP_201_CREATED)
async def create(body: AlertRequest, actor: ActorDep, mediator: MediatorDep) -> AlertBody:
    """A new rule, armed, owned by the caller."""
    return AlertBody.of(await mediator.send(m.CreateAlertCommand(actor, body.settings())))


@router.get("")
async def list_alerts(actor: ActorDep, mediator: MediatorDep,
                      limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> list[AlertBody]:
    """The caller's rules (an admin's: everyone's), oldest first."""
    return [AlertBody.of(s) for s in await mediator.send(m.ListAlertsQuery(actor, limit))]


@router.get("/{rule_id}", responses=_MISSING)
async def get(rule_id: RuleIdPath, actor: ActorDep, mediator: MediatorDep) -> AlertBody:
    return AlertBody.of(await mediator.send(m.GetAlertQuery(actor, rule_id)))


@router.put("/{rule_id}", responses=_MISSING)
async def replace(rule_id: RuleIdPath, body: AlertRequest, actor: ActorDep, mediator: MediatorDep) -> AlertBody:
    """Every setting anew; a new symbol, source, interval or condition starts watching afresh."""
    return AlertBody.of(await mediator.send(m.ReviseAlertCommand(actor, rule_id, body.changes())))


@router.patch("/{rule_id}", responses=_MISSING)
async def patch(rule_id: RuleIdPath, body: AlertPatch, actor: ActorDep, mediator: MediatorDep) -> AlertBody:
    """Only the settings given."""
    return AlertBody.of(await mediator.send(m.ReviseAlertCommand(actor, rule_id, body.changes())))


@router.delete("/{rule_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_MISSING)
async def delete(rule_id: RuleIdPath, actor: ActorDep, mediator: MediatorDep) -> None:
    """The rule and its trigger history."""
    await mediator.send(m.DeleteAlertCommand(actor, rule_id))


@router.post("/{rule_id}/enable", responses=_MISSING)
async def enable(rule_id: RuleIdPath, actor: ActorDep, mediator: MediatorDep) -> AlertBody:
    """Arm a disabled, done or expired rule afresh (an active one stays as it is)."""
    return AlertBody.of(await mediator.send(m.EnableAlertCommand(actor, rule_id)))


@router.post("/{rule_id}/disable", responses=_MISSING)
async def disable(rule_id: RuleIdPath, actor: ActorDep, mediator: MediatorDep) -> AlertBody:
    return AlertBody.of(await mediator.send(m.DisableAlertCommand(actor, rule_id)))


@router.get("/{rule_id}/events", responses=_MISSING)
async def events(rule_id: RuleIdPath, actor: ActorDep, mediator: MediatorDep,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[AlertTriggerBody]:
    """The rule's triggers, newest first, each with the values that fired it."""
    return [AlertTriggerBody.of(e) for e in await mediator.send(m.ListAlertTriggersQuery(actor, rule_id, limit))]
