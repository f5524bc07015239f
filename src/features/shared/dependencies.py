"""The one FastAPI dependency routes take: the Mediator the composition root built (on `app.state`).
Routes build a Command or Query and send it; they reach nothing else of the application."""

from typing import Annotated

from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from src.common.mediator import Mediator


def mediator_of(request: Request) -> Mediator:
    """For the hottest routes, which skip FastAPI's dependency resolution (~20 µs a request)."""
    mediator: Mediator = request.app.state.mediator
    return mediator


async def _mediator(connection: HTTPConnection) -> Mediator:  # HTTP requests and WebSockets alike
    mediator: Mediator = connection.app.state.mediator
    return mediator


MediatorDep = Annotated[Mediator, Depends(_mediator)]
