"""The FastAPI dependencies routes take: the Mediator the composition root built (on `app.state`), and,
for routes that act for someone, the principal the HTTP edge authenticated. Routes build a Command or
Query and send it; they reach nothing else of the application."""

from typing import Annotated

from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from src.common import request_scope
from src.common.errors import AuthenticationOff
from src.common.mediator import Mediator
from src.domain.identity import Principal


def mediator_of(request: Request) -> Mediator:
    """For the hottest routes, which skip FastAPI's dependency resolution (~20 µs a request)."""
    mediator: Mediator = request.app.state.mediator
    return mediator


async def _mediator(connection: HTTPConnection) -> Mediator:  # HTTP requests and WebSockets alike
    mediator: Mediator = connection.app.state.mediator
    return mediator


MediatorDep = Annotated[Mediator, Depends(_mediator)]


async def _principal(connection: HTTPConnection) -> Principal:
    """Set by the edge's authentication; on a protected route its absence was already answered 401, so
    here it means that the service runs without authentication."""
    principal: Principal | None = connection.scope.get(request_scope.PRINCIPAL)
    if principal is None:
        raise AuthenticationOff("authentication is off on this service (AUTH_JWT_SECRET is not set): requests "
                                "act as nobody in particular")
    return principal


PrincipalDep = Annotated[Principal, Depends(_principal)]
