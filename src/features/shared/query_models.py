"""Query strings: strict everywhere, and validated by one pydantic model on hot routes.

Strict: a query parameter a route does not document is refused with a 422 naming it (a typo such as
`limt=2` would otherwise be silently ignored). What a route documents is what its OpenAPI operation lists
(declared FastAPI parameters and `openapi_extra` alike), so the document and the check cannot disagree:
`documented_query_names(openapi)` reads them once, `reject_unknown(query, allowed)` checks a request (the
root's route guard calls it for every route).

FastAPI resolves and validates every declared query parameter separately, which costs about 20 µs per
parameter per request; a hot route that takes many can validate them all in one `model_validate`
(several times cheaper) and still document them: `openapi_parameters(Model)` describes the model's
fields as query parameters for `openapi_extra`.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

RouteKey = tuple[str, str]  # (method, path template)


def documented_query_names(openapi: Mapping[str, Any]) -> dict[RouteKey, frozenset[str]]:
    """For every operation of an OpenAPI document, the names of its query parameters."""
    names: dict[RouteKey, frozenset[str]] = {}
    for path, operations in openapi.get("paths", {}).items():
        for method, operation in operations.items():
            parameters = operation.get("parameters", ()) if isinstance(operation, dict) else ()
            names[(method.upper(), path)] = frozenset(p["name"] for p in parameters if p.get("in") == "query")
    return names


def reject_unknown(query: Iterable[str], allowed: frozenset[str]) -> None:
    unknown = [name for name in dict.fromkeys(query) if name not in allowed]
    if unknown:
        expected = ", ".join(sorted(allowed)) or "none"
        raise RequestValidationError([
            {"type": "extra_forbidden", "loc": ("query", name), "input": None,
             "msg": f"unknown query parameter; this route takes: {expected}"}
            for name in unknown
        ])


def parse_query[M: BaseModel](model: type[M], request: Request) -> M:
    """The request's query string as `model`; a 422 naming the fields (as FastAPI would) when invalid."""
    try:
        return model.model_validate(dict(request.query_params))  # a dict validates ~4x faster than the Mapping
    except ValidationError as error:
        raise RequestValidationError(
            [{**e, "loc": ("query", *e["loc"])} for e in error.errors(include_url=False)]
        ) from None


def openapi_parameters(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    if "$defs" in schema:
        raise TypeError(f"{model.__name__}: query fields must be plain types (no nested models or enums)")
    required = set(schema.get("required", ()))
    parameters = [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": {k: v for k, v in field.items() if k != "description"},
            **({"description": field["description"]} if "description" in field else {}),
        }
        for name, field in schema["properties"].items()
    ]
    return {"parameters": parameters}
