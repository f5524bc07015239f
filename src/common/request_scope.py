"""What the HTTP edge leaves in a request's ASGI scope for the layers inside it: the middleware, the access
log, and the slices' dependencies (the authenticated principal)."""

from collections.abc import MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]

# Inner middleware append (name, value) pairs here for the outermost middleware to add to the response,
# instead of each wrapping `send` again (a wrapper per layer is a visible share of a cheap route).
RESPONSE_HEADERS = "pocketquant.response_headers"
# The resolved client address (the peer, or the X-Forwarded-For hop behind trusted proxies).
CLIENT = "pocketquant.client"
# The authenticated principal (`src.domain.identity.Principal`), or absent for anonymous requests.
PRINCIPAL = "pocketquant.principal"
# Why credentials that were sent were refused (expired, tampered, revoked), for the route's 401.
AUTH_FAILURE = "pocketquant.auth_failure"


def client_of(scope: Scope) -> str:
    resolved: str | None = scope.get(CLIENT)
    if resolved:
        return resolved
    peer = scope.get("client")
    return peer[0] if peer else "unknown"
# On a WebSocket whose handshake carried no credentials: the permission it must prove in its first message.
AUTHENTICATE_IN_BAND = "pocketquant.authenticate_in_band"
