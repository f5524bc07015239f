"""Authentication at the edge: the credential of a request (`Authorization: Bearer <token or API key>` or
`X-API-Key: <key>`) becomes its principal, left in the scope for the rate limiter (per principal), the
idempotency layer, the access log and the routes. Credentials that do not hold are not refused here:
the reason is left in the scope, and the route's access check answers 401 with it — a public route (login,
refresh, health) works whatever stale token a client still sends. Requests without credentials pass as
anonymous. WebSocket handshakes are authenticated the same way, or, since browsers cannot set headers on
them, by the subprotocols they offer: `Sec-WebSocket-Protocol: bearer, <token or API key>` (the endpoint
then accepts the `bearer` subprotocol). A token never goes in a URL, which ends up in logs."""

from starlette.types import ASGIApp, Receive, Scope, Send

from src.common import request_scope
from src.common.errors import Unauthenticated
from src.common.ports import Authenticator

_BEARER = b"bearer "
BEARER_SUBPROTOCOL = "bearer"


def credential_of(headers: list[tuple[bytes, bytes]], *, websocket: bool = False) -> str | None:
    api_key = subprotocol = None
    for name, value in headers:
        if name == b"authorization":
            if value[:7].lower() == _BEARER:
                return value[7:].strip().decode("latin-1")
            return ""  # another scheme (Basic, ...): a credential we do not take
        if name == b"x-api-key":
            api_key = value.strip().decode("latin-1")
        elif websocket and name == b"sec-websocket-protocol":
            subprotocol = subprotocol_credential(value.decode("latin-1"))
    return api_key if api_key is not None else subprotocol


def subprotocol_credential(offered: str) -> str | None:
    """The token of `bearer, <token>` among the offered subprotocols; "" for `bearer` without one."""
    protocols = [p.strip() for p in offered.split(",")]
    if protocols[0].lower() != BEARER_SUBPROTOCOL:
        return None
    return protocols[1] if len(protocols) > 1 else ""


class AuthenticationMiddleware:
    def __init__(self, app: ASGIApp, authenticator: Authenticator) -> None:
        self.app = app
        self.authenticator = authenticator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            credential = credential_of(scope["headers"], websocket=scope["type"] == "websocket")
            if credential is not None:
                await self._authenticate(scope, credential)
        await self.app(scope, receive, send)

    async def _authenticate(self, scope: Scope, credential: str) -> None:
        if not credential:
            scope[request_scope.AUTH_FAILURE] = "unsupported credentials: use Authorization: Bearer or X-API-Key"
            return
        try:
            scope[request_scope.PRINCIPAL] = await self.authenticator.authenticate(credential)
        except Unauthenticated as refused:
            scope[request_scope.AUTH_FAILURE] = str(refused)
