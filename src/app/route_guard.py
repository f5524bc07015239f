"""The route guard: the one FastAPI dependency the root puts on every route of every slice.

For each request it checks, against the route it was routed to:
- the access map (`src/app/access.py`), when authentication is on: 401 / 403;
- the query string: a parameter the route does not document in the OpenAPI document is a 422.
One dependency rather than two: resolving a dependency costs FastAPI about 10 µs a request whatever it does.
"""

from fastapi import FastAPI
from starlette.requests import HTTPConnection

from src.features.shared.query_models import documented_query_names, reject_unknown
from src.infrastructure.http.authorization import RouteAccess, RouteKey, route_key


class RouteGuard:
    def __init__(self, access: RouteAccess | None, app: FastAPI) -> None:
        self._access = access
        self._app = app
        self._queries: dict[RouteKey, frozenset[str]] | None = None  # read from the document on first use

    async def __call__(self, connection: HTTPConnection) -> None:
        scope = connection.scope
        route = route_key(scope)
        if self._access is not None:
            self._access.check(scope, route)
        if scope["type"] == "http" and scope["query_string"]:
            reject_unknown(connection.query_params.keys(), self._allowed(route))

    def _allowed(self, route: RouteKey) -> frozenset[str]:
        if self._queries is None:
            self._queries = documented_query_names(self._app.openapi())
        return self._queries.get(route, frozenset())
