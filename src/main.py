"""HTTP app factory and the `make run` entry point."""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
import uvicorn
from fastapi import FastAPI

from src.bootstrap import Container, build_lifecycle, wire
from src.features.market_data.routes import router as market_data_router
from src.features.quotes.routes import router as quotes_router
from src.features.quotes.ws import router as quotes_ws_router
from src.features.system.routes import router as system_router
from src.infrastructure.config.logging import configure_logging
from src.infrastructure.config.settings import Settings, load_settings
from src.infrastructure.http.edge import install_edge

log = structlog.get_logger("app")


def create_app(settings: Settings | None = None, container: Container | None = None) -> FastAPI:
    settings = settings or load_settings()
    container = container or Container(settings=settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        mediator = wire(container)
        lifecycle = build_lifecycle(container)
        await lifecycle.start()
        # What exists now lives as long as the process: keep full collections from rescanning it (p99 latency).
        gc.collect()
        gc.freeze()
        app.state.settings = settings
        app.state.container = container
        app.state.lifecycle = lifecycle
        app.state.mediator = mediator
        app.state.event_bus = container.event_bus()
        app.state.jobs = container.scheduler()
        app.state.quote_hub = container.quote_hub()
        app.state.dead_letters = container.dead_letters()
        log.info("pocketquant started", environment=settings.environment, store=container.mongo().kind)
        try:
            yield
        finally:
            await lifecycle.stop()
            log.info("pocketquant stopped")

    app = FastAPI(
        title="PocketQuant",
        version="0.1.0",
        summary="Self-hosted market data: OHLCV history, live quotes and bars over REST and WebSocket.",
        docs_url="/api/v1/docs",
        openapi_url="/api/v1/openapi.json",
        redoc_url=None,
        lifespan=lifespan,
    )
    for router in (system_router, market_data_router, quotes_router, quotes_ws_router):
        app.include_router(router)
    install_edge(
        app, settings, metrics=container.metrics(), event_bus=container.event_bus(),
        dead_letters=container.dead_letters(),
    )
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
        proxy_headers=False,  # the edge resolves client addresses itself, only behind trusted proxies
    )


if __name__ == "__main__":
    main()
