"""Serve the app for a benchmark the way `make run` does: `create_app(settings)` under `uvicorn.run` in a
process of its own (uvloop and httptools when installed, no access log, log level warning).

    python -m benchmarks._serve_app --port 8123 --settings '{"redis_url": "redis://..."}' [--bare]

`--settings` is a JSON object of `Settings` fields (the environment and `.env` are not read). The app gets
one benchmark-only route, `GET /bench/ping`, answering a constant: the "trivial route" baseline. `--bare`
drops the edge middleware stack (same routes and routing), for the cost of the stack alone.
"""

import argparse
import json
from typing import Any

from benchmarks._load import TRIVIAL_PATH


def build_app(settings: dict[str, Any], *, bare: bool = False) -> Any:
    from fastapi import Response

    from src.app.http import create_app
    from src.common.settings import Settings

    app = create_app(Settings(_env_file=None, **settings))  # type: ignore[call-arg]
    if bare:
        app.user_middleware.clear()

    @app.get(TRIVIAL_PATH, include_in_schema=False)
    async def ping() -> Response:
        return Response(b'{"ok":true}', media_type="application/json")

    return app


def main() -> None:
    import uvicorn

    from src.infrastructure.observability.logging import configure_logging

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--settings", default="{}", help="JSON object of Settings fields")
    parser.add_argument("--bare", action="store_true", help="without the edge middleware stack")
    args = parser.parse_args()
    settings = {"log_level": "WARNING", **json.loads(args.settings)}
    configure_logging(level=settings["log_level"], fmt="json")
    uvicorn.run(build_app(settings, bare=args.bare), host="127.0.0.1", port=args.port, log_config=None,
                log_level="warning", access_log=False, proxy_headers=False)


if __name__ == "__main__":
    main()
