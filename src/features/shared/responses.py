"""JSON responses serialized with orjson: no per-field walk by FastAPI on hot paths."""

from typing import Any

import orjson
from fastapi.responses import JSONResponse


class OrjsonResponse(JSONResponse):
    """A JSON response (so documented: a JSONResponse subclass gets its route's model in OpenAPI, where a
    plain Response would be documented as a string)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        if isinstance(content, bytes):
            return content
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
