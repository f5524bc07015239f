"""The outermost middleware: binds the request's correlation id for everything that runs inside it, runs
the request guard (untrusted Host, cross-site state changes, bodies over the limit: `request_guard`), and
observes the request once for metrics and the access log (one layer instead of four: every layer costs
throughput). Refusals carry the correlation id and are observed like any other answer.

The id comes from `X-Correlation-ID` when it is valid (length and characters), otherwise a new one is
made; it is echoed on the response, bound in contextvars (log lines, published events, outgoing calls)
and written into the body of a 500 for an exception nothing else handled.
"""

import time
from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from src.common import request_scope as scope_keys
from src.common.correlation import (
    bind_correlation_id,
    is_valid_correlation_id,
    new_correlation_id,
    reset_correlation_id,
)
from src.infrastructure.http.request_guard import BodyTooLarge, RequestGuard

HEADER = b"x-correlation-id"
RESPONSE_HEADERS_SCOPE_KEY = scope_keys.RESPONSE_HEADERS
UNMATCHED_ROUTE = "<unmatched>"
OnError = Callable[[Scope, Send, BaseException], Awaitable[None]]
# (method, route template, status, seconds)
RecordRequest = Callable[[str, str, int, float], None]
# (method, route template, status, seconds, client, correlation id, principal name or None)
LogRequest = Callable[[str, str, int, float, str, str, str | None], None]


def correlation_id_from(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == HEADER:
            text = value.decode("latin-1")
            return text if is_valid_correlation_id(text) else None
    return None


class CorrelationIdMiddleware:
    def __init__(self, app: ASGIApp, on_error: OnError, record: RecordRequest | None = None,
                 access_log: LogRequest | None = None, guard: RequestGuard | None = None) -> None:
        self.app = app
        self.on_error = on_error
        self.record = record
        self.access_log = access_log
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._not_http(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        cid = correlation_id_from(scope["headers"]) or new_correlation_id()
        extra = [(HEADER, cid.encode("ascii"))]
        scope[RESPONSE_HEADERS_SCOPE_KEY] = extra

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        tokens = bind_correlation_id(cid)  # what `correlation_scope` does, without its generator
        try:
            await self._guarded(scope, receive, send_with_id)
        except BodyTooLarge as error:  # read by a middleware, where no exception handler runs
            if status:
                raise
            await RequestGuard.refuse(scope, send_with_id, (413, error.slug, str(error.detail)))
        except Exception as error:
            if status:  # too late for a problem response; let the server drop the connection
                status = 500
                raise
            await self.on_error(scope, send_with_id, error)
        finally:
            reset_correlation_id(tokens)
            self._observe(scope, status or 500, time.perf_counter() - started, cid)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.guard is None:
            await self.app(scope, receive, send)
            return
        refusal, has_body = self.guard.check(scope)
        if refusal is not None:
            await self.guard.refuse(scope, send, refusal)
        else:
            await self.app(scope, self.guard.limited(receive) if has_body else receive, send)

    async def _not_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        """WebSocket handshakes go through the guard too (Host, cross-site); lifespan straight through."""
        if self.guard is not None and scope["type"] == "websocket":
            refusal, _ = self.guard.check(scope)
            if refusal is not None:
                await self.guard.refuse(scope, send, refusal)
                return
        await self.app(scope, receive, send)

    def _observe(self, scope: Scope, status: int, seconds: float, cid: str) -> None:
        route = scope.get("route")  # set by the router: the template, never the raw path (which may hold ids)
        template = getattr(route, "path_format", None) or UNMATCHED_ROUTE
        if self.record is not None:
            self.record(scope["method"], template, status, seconds)
        if self.access_log is not None:
            principal = scope.get(scope_keys.PRINCIPAL)
            self.access_log(scope["method"], template, status, seconds, scope_keys.client_of(scope), cid,
                            principal.name if principal is not None else None)
