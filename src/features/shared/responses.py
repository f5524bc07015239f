"""JSON responses serialized with orjson: no per-field walk by FastAPI on hot paths."""

from typing import Any

import orjson
from fastapi import Response


class OrjsonResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        if isinstance(content, bytes):
            return content
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
