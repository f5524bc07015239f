"""Serve a process for the roles in its settings: uvicorn over the app the root builds (the whole API with
the `api` role, the operations routes otherwise; see `src.app.http`). `make run` and `pocketquant serve`
both end here.

Shutdown is bounded: on SIGTERM/SIGINT the root's lifecycle is told at once (`begin_shutdown`), so running
syncs get `SYNC_DRAIN_TIMEOUT_S` from the signal, not from the end of the request drain; uvicorn's own
graceful-shutdown timeout is a backstop a second later."""

import asyncio
from types import FrameType

import uvicorn

from src.app.http import http_app
from src.app.root import Root, bootstrap
from src.common.settings import Settings
from src.infrastructure.http.websocket_protocol import BoundedWebSocketProtocol
from src.infrastructure.observability.logging import configure_logging

BACKSTOP_S = 1.0


class _Server(uvicorn.Server):
    """uvicorn's server, telling the root's lifecycle as soon as a shutdown signal arrives."""

    def __init__(self, config: uvicorn.Config, root: Root) -> None:
        super().__init__(config)
        self._root = root

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            loop.call_soon_threadsafe(self._root.lifecycle.begin_shutdown)  # safe from a signal handler
        super().handle_exit(sig, frame)


def serve(settings: Settings) -> None:
    configure_logging(level=settings.log_level, fmt=settings.effective_log_format)
    root = bootstrap(settings)
    config = uvicorn.Config(
        http_app(root),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        access_log=False,
        proxy_headers=False,  # the edge resolves client addresses itself, only behind trusted proxies
        ws=BoundedWebSocketProtocol,  # non-readers aborted when closed, small send buffers, ping floods cut
        timeout_graceful_shutdown=max(1, round(settings.sync_drain_timeout_s + BACKSTOP_S)),
    )
    _Server(config, root).run()
