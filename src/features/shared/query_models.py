"""Query strings validated by one pydantic model instead of one FastAPI parameter each.

FastAPI resolves and validates every declared query parameter separately, which costs about 20 µs per
parameter per request; a hot route that takes many can validate them all in one `model_validate`
(several times cheaper) and still document them: `openapi_parameters(Model)` describes the model's
fields as query parameters for `openapi_extra`.
"""

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError


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
