"""Serve a process for the roles in its settings: uvicorn over the app the root builds (the whole API with
the `api` role, the operations routes otherwise; see `src.app.http`). `make run` and `pocketquant serve`
both end here."""

import uvicorn

from src.app.http import create_app
from src.common.settings import Settings
from src.infrastructure.observability.logging import configure_logging


def serve(settings: Settings) -> None:
    configure_logging(level=settings.log_level, fmt=settings.effective_log_format)
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        access_log=False,
        proxy_headers=False,  # the edge resolves client addresses itself, only behind trusted proxies
    )
