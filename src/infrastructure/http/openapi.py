"""The OpenAPI document as the service really answers: FastAPI's document, then

- every error status an operation can answer documented as `application/problem+json` (`Problem`), the
  422 included (FastAPI documents its own `HTTPValidationError` shape, which the service never sends);
- the errors the edge adds to every operation (malformed request, body too large, rate limited, store
  down, internal error), to every state-changing one (cross-site refusal, idempotency key in use) and, with
  authentication on, to every protected one (401, 403);
- the security schemes and each operation's requirement, from the access map.
An error status a route declares itself keeps its own content (e.g. `/health`'s 503 is its health body).
"""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from src.domain.identity import Permission
from src.infrastructure.http.authorization import RouteAccess

PROBLEM_JSON = "application/problem+json"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details",
    "type": "object",
    "required": ["type", "title", "status", "detail", "instance", "correlation_id"],
    "properties": {
        "type": {"type": "string", "description": "a URN naming the problem, or about:blank"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string", "description": "the request path"},
        "correlation_id": {"type": ["string", "null"]},
        "field": {"type": ["string", "null"], "description": "the input at fault, when one is"},
        "errors": {
            "type": "array",
            "items": {"type": "object", "required": ["field", "message"],
                      "properties": {"field": {"type": "string"}, "message": {"type": "string"}}},
        },
    },
}
EVERY_OPERATION = {
    400: "Malformed request: an untrusted Host, a JSON syntax error, or a malformed Idempotency-Key",
    413: "The request body is larger than the limit",
    422: "Invalid input: the failing fields are named in `errors` (unknown query parameters included)",
    429: "Rate limited: retry after `Retry-After` seconds",
    500: "Unexpected error: quote the correlation_id when reporting it",
    503: "A dependency (the store, the upstream, the idempotency store) is unavailable: retry after `Retry-After`",
}
STATE_CHANGING = {
    403: "Refused: a cross-site request from a browser, or a role without the permission",
    409: "Conflict: a request with this Idempotency-Key is still running, or the resource's state forbids it",
}
PROTECTED = {
    401: "No credentials, or credentials that do not hold (expired, tampered with, revoked)",
    403: "The caller's role does not have the permission this operation needs",
}
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def install_exact_openapi(app: FastAPI, access: RouteAccess | None) -> None:
    """Replace `app.openapi` with the exact document (built once); `access` None: authentication is off."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, summary=app.summary,
                                   description=app.description, routes=app.routes)
            app.openapi_schema = exact(document, access)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def exact(document: dict[str, Any], access: RouteAccess | None) -> dict[str, Any]:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            required = access.access.get((method.upper(), path)) if access is not None else None
            _document_errors(operation, method.upper(), protected=isinstance(required, Permission))
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    if access is not None:
        access.document(document)
    return document


def _document_errors(operation: dict[str, Any], method: str, *, protected: bool) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    generic = {**EVERY_OPERATION, **(STATE_CHANGING if method != "GET" else {}), **(PROTECTED if protected else {})}
    for code, description in generic.items():
        responses.setdefault(str(code), {"description": description})
    for status, response in responses.items():
        if status[0] in "45":
            _as_problem(response, replace=status == "422")


def _as_problem(response: dict[str, Any], *, replace: bool) -> None:
    content = response.get("content")
    if replace or not content or all(not media.get("schema") for media in content.values()):
        response["content"] = {PROBLEM_JSON: {"schema": PROBLEM_REF}}

