"""`make run`: read the settings, configure logging, serve the app the composition root builds."""

import uvicorn

from src.app.http import create_app
from src.common.settings import load_settings
from src.infrastructure.observability.logging import configure_logging


def main() -> None:
    settings = load_settings()
    configure_logging(level=settings.log_level, fmt=settings.effective_log_format)
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        access_log=False,
        proxy_headers=False,  # the edge resolves client addresses itself, only behind trusted proxies
    )


if __name__ == "__main__":
    main()
