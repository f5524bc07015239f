"""HTTP app factory and the `make run` entry point."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
import uvicorn
from fastapi import FastAPI

from src.bootstrap import Container
from src.features.system.routes import router as system_router
from src.infrastructure.config.logging import configure_logging
from src.infrastructure.config.settings import Settings, load_settings

log = structlog.get_logger("app")


def create_app(settings: Settings | None = None, container: Container | None = None) -> FastAPI:
    settings = settings or load_settings()
    container = container or Container(settings=settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        lifecycle = container.lifecycle()
        await lifecycle.start()
        app.state.settings = settings
        app.state.container = container
        app.state.lifecycle = lifecycle
        app.state.mediator = container.mediator()
        app.state.event_bus = container.event_bus()
        log.info("pocketquant started", environment=settings.environment)
        try:
            yield
        finally:
            await lifecycle.stop()
            log.info("pocketquant stopped")

    app = FastAPI(
        title="PocketQuant",
        version="0.1.0",
        docs_url="/api/v1/docs",
        openapi_url="/api/v1/openapi.json",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.include_router(system_router)
    return app


def main() -> None:
    settings = load_settings()
    configure_logging(level=settings.log_level, fmt=settings.effective_log_format)
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
