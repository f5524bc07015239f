"""Authorization per route: the one access map (route → what it requires), checked for every request by
the route guard the app puts on every route (`src/app/route_guard.py`), and written into the OpenAPI
document as security requirements.

A route is `PUBLIC` or requires a `Permission` (`src.domain.identity.roles` says which roles have it).
Without a principal the answer is 401 (naming why the credentials sent did not hold, when some were sent);
with one whose role lacks the permission, 403. A WebSocket route may require its permission `InBand`:
browsers cannot set headers on a handshake, so one without any credentials is let through with the
permission left in the scope, and the endpoint authenticates the socket's first message before anything
else (credentials that were sent and did not hold are still refused at the handshake).
Every route must be in the map: `RouteAccess.require_all` refuses to build an app with a route the map does
not name, so a new route cannot be open by omission.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from fastapi.exceptions import WebSocketException
from starlette.status import WS_1008_POLICY_VIOLATION

from src.common import request_scope
from src.common.errors import Forbidden, Unauthenticated
from src.common.request_scope import Scope
from src.domain.identity import Permission, Principal, roles_allowed


class Public:
    def __repr__(self) -> str:
        return "PUBLIC"


PUBLIC: Final = Public()


@dataclass(frozen=True, slots=True)
class InBand:
    """A WebSocket route's permission, proven in the handshake or, without credentials there, in-band."""

    permission: Permission


Access = Permission | Public | InBand
RouteKey = tuple[str, str]  # (method, path template); WebSocket routes use the method "WS"
NO_CREDENTIALS = "credentials required: send Authorization: Bearer <access token or API key>, or X-API-Key"

BEARER_SCHEME = "bearerAuth"
API_KEY_SCHEME = "apiKeyAuth"
SECURITY_SCHEMES = {
    BEARER_SCHEME: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT or API key",
                    "description": "an access token from POST /api/v1/auth/login, or an API key"},
    API_KEY_SCHEME: {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "an API key"},
}


class UnmappedRoutes(LookupError):
    pass


class RouteAccess:
    """The map, and the check of a request against it."""

    def __init__(self, access: Mapping[RouteKey, Access]) -> None:
        self.access = dict(access)

    def require_all(self, routes: Iterable[RouteKey]) -> None:
        missing = sorted(set(routes) - set(self.access))
        if missing:
            listed = ", ".join(f"{method} {path}" for method, path in missing)
            raise UnmappedRoutes(f"routes missing from the access map (src/app/access.py): {listed}")

    def check(self, scope: Scope, route: RouteKey) -> None:
        """Raises Unauthenticated (401), Forbidden (403), or for a WebSocket handshake a policy-violation
        close (a 403 to the client), unless the request's principal may call `route`."""
        required = self.access[route]
        principal: Principal | None = scope.get(request_scope.PRINCIPAL)
        failure = scope.get(request_scope.AUTH_FAILURE)
        if isinstance(required, InBand):
            if principal is None and failure is None and scope["type"] == "websocket":
                scope[request_scope.AUTHENTICATE_IN_BAND] = required.permission
                return
            required = required.permission
        if not isinstance(required, Permission):
            return  # PUBLIC
        refusal = _refusal(principal, required, failure)
        if refusal is None:
            return
        if scope["type"] == "websocket":
            raise WebSocketException(WS_1008_POLICY_VIOLATION, str(refusal)[:120])
        raise refusal

    def document(self, openapi: dict[str, Any]) -> None:
        """Write the map into an OpenAPI document: the schemes, and each operation's requirement."""
        openapi.setdefault("components", {}).setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
        for path, operations in openapi.get("paths", {}).items():
            for method, operation in operations.items():
                required = self.access.get((method.upper(), path))
                if isinstance(required, InBand):
                    required = required.permission
                if isinstance(required, Permission):
                    operation["security"] = [{BEARER_SCHEME: []}, {API_KEY_SCHEME: []}]
                    roles = ", ".join(roles_allowed(required))
                    operation["description"] = (operation.get("description", "") +
                                                f"\n\nRequires **{required}** (roles: {roles}).").strip()
                elif required is PUBLIC:
                    operation["security"] = []


def route_key(scope: Scope) -> RouteKey:
    """The (method, path template) of the route a request was routed to."""
    template = getattr(scope.get("route"), "path_format", "")
    if scope["type"] == "websocket":
        return "WS", template
    method: str = scope["method"]
    return ("GET" if method == "HEAD" else method), template


def _refusal(principal: Principal | None, required: Permission, failure: str | None) -> Exception | None:
    if principal is None:
        return Unauthenticated(failure or NO_CREDENTIALS)
    if not principal.can(required):
        roles = ", ".join(roles_allowed(required))
        return Forbidden(f"this needs the permission to {required} (roles: {roles}); you are a {principal.role}")
    return None
