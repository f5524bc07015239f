"""RFC 9457 problem details: the one place where errors become HTTP responses.

Every error leaves the API as `application/problem+json` with `type`, `title`, `status`, `detail`,
`instance` (the request path) and `correlation_id`; validation problems add `errors: [{field, message}]`.
"""

import math
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

import orjson
import structlog
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope, Send

from src.common.correlation import get_correlation_id
from src.common.errors import (
    ApplicationError,
    AuthenticationOff,
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    Overloaded,
    SourceUnavailable,
    StoreUnavailable,
    Unauthenticated,
    UpstreamRejected,
    UpstreamUnavailable,
)
from src.common.redaction import redact_text
from src.domain.errors import DomainError

PROBLEM_JSON = "application/problem+json"
_TYPE_PREFIX = "urn:pocketquant:problem:"
log = structlog.get_logger("http.problems")

# Most specific first: the first class in an error's MRO found here decides its status and type.
APPLICATION_ERRORS: dict[type[ApplicationError], tuple[int, str]] = {
    Unauthenticated: (401, "unauthenticated"),
    Forbidden: (403, "forbidden"),
    AuthenticationOff: (409, "authentication-off"),
    InvalidRequest: (422, "invalid-request"),
    NotFound: (404, "not-found"),
    Conflict: (409, "conflict"),
    UpstreamUnavailable: (503, "upstream-unavailable"),
    StoreUnavailable: (503, "store-unavailable"),
    UpstreamRejected: (502, "upstream-rejected"),
    Overloaded: (503, "overloaded"),
}


def problem_type(slug: str) -> str:
    return _TYPE_PREFIX + slug


def problem_body(
    status: int,
    *,
    detail: str,
    instance: str,
    slug: str | None = None,
    title: str | None = None,
    **extra: Any,
) -> bytes:
    """The JSON of one problem; without `slug` the type is `about:blank` and the title the status phrase."""
    body: dict[str, Any] = {
        "type": problem_type(slug) if slug else "about:blank",
        "title": title or _phrase(status),
        "status": status,
        "detail": detail,
        "instance": instance,
        "correlation_id": get_correlation_id(),
    }
    body.update(extra)
    return orjson.dumps(body)


def problem_response(
    status: int,
    *,
    detail: str,
    instance: str,
    slug: str | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    content = problem_body(status, detail=detail, instance=instance, slug=slug, title=title, **extra)
    return Response(content, status_code=status, headers=headers, media_type=PROBLEM_JSON)


async def send_problem(
    send: Send, status: int, body: bytes, extra_headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    """Send a problem from pure ASGI middleware (no Response object on the hot path)."""
    headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        *extra_headers,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def send_internal_error(scope: Scope, send: Send, error: BaseException) -> None:
    """The last resort for an unhandled exception: logged with its stack, answered without it."""
    log.error(
        "unhandled error",
        method=scope.get("method"),
        path=scope.get("path"),
        exc_info=error,
    )
    body = problem_body(
        500,
        slug="internal-error",
        detail="An unexpected error occurred; quote the correlation_id when reporting it.",
        instance=scope.get("path", ""),
    )
    await send_problem(send, 500, body)


# --- exception handlers, registered on the app by `install_problem_handlers` ---------------------


def _field_of(location: Sequence[Any]) -> str:
    parts = [str(p) for p in location]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "request"


async def _validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    malformed = next((e for e in error.errors() if e.get("type") == "json_invalid"), None)
    if malformed is not None:
        return _malformed_json(request, malformed)
    errors = [{"field": _field_of(e.get("loc", ())), "message": e.get("msg", "invalid")} for e in error.errors()]
    fields = ", ".join(dict.fromkeys(e["field"] for e in errors))
    return problem_response(
        422,
        slug="validation-error",
        title="Request validation failed",
        detail=f"invalid {fields}",
        instance=request.url.path,
        errors=errors,
    )


def _malformed_json(request: Request, error: dict[str, Any]) -> Response:
    """A body that is not JSON at all: a syntax problem of the request, not a field's (FastAPI names the
    character position as if it were a field)."""
    position = error.get("loc", ("body", None))[-1]
    reason = (error.get("ctx") or {}).get("error", "invalid JSON")
    return problem_response(
        400, slug="malformed-json", title="Malformed JSON",
        detail=f"the request body is not valid JSON: {reason} at character {position}", instance=request.url.path,
    )


async def _domain_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, DomainError)
    extra: dict[str, Any] = {}
    if error.field:
        extra["errors"] = [{"field": error.field, "message": str(error)}]
    return problem_response(
        422, slug="domain-rule-violated", title="Domain rule violated", detail=str(error),
        instance=request.url.path, field=error.field, **extra,
    )


_HEADERS_OF_STATUS = {503: {"Retry-After": "5"}, 401: {"WWW-Authenticate": 'Bearer realm="pocketquant"'}}


def status_of(error: ApplicationError) -> tuple[int, str]:
    for cls in type(error).__mro__:
        if cls in APPLICATION_ERRORS:
            return APPLICATION_ERRORS[cls]
    return 400, "bad-request"


async def _application_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ApplicationError)
    status, slug = status_of(error)
    detail = redact_text(str(error)) or _phrase(status)  # an upstream's error may quote a URL with a token
    if status >= 500:  # the access line says that it failed; this one says why (with the correlation id)
        log.warning("request failed", status=status, error=type(error).__name__, detail=detail,
                    method=request.method, path=request.url.path)
    headers = {"Retry-After": _retry_after(error)} if status == 503 else _HEADERS_OF_STATUS.get(status)
    extra: dict[str, Any] = {"field": error.field} if error.field else {}
    if isinstance(error, SourceUnavailable):
        extra.update(source=error.source, retry_after_s=int(_retry_after(error)))
    if error.field and status == 422:
        extra["errors"] = [{"field": error.field, "message": detail}]
    return problem_response(
        status, slug=slug, title=type(error).__name__, detail=detail, instance=request.url.path, headers=headers,
        **extra,
    )


def _retry_after(error: ApplicationError) -> str:
    seconds = error.retry_after_s if isinstance(error, SourceUnavailable) else 5
    return str(max(1, math.ceil(seconds)))


async def _http_exception(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    status = error.status_code
    detail = error.detail if isinstance(error.detail, str) else _phrase(status)
    if status == 404 and detail == _phrase(404):
        detail = f"no route matches {request.url.path}"
    elif status == 405 and detail == _phrase(405):
        detail = f"{request.method} is not allowed on {request.url.path}"
    if status < 200 or status in (204, 304):  # no body allowed
        return Response(status_code=status, headers=error.headers)
    headers = dict(error.headers) if error.headers else None
    slug = getattr(error, "slug", None)  # edge refusals raised as HTTPException name their problem type
    return problem_response(status, detail=detail, instance=request.url.path, headers=headers, slug=slug)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(ApplicationError, _application_error)
    app.add_exception_handler(StarletteHTTPException, _http_exception)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
