"""The shell every simulator shares: an aiohttp server on a free port, request counting per endpoint, the
generic faults (latency, 5xx error rate, hanging requests) and the `/_sim/*` control API for tests.

Control API (never counted, never faulted):
- `GET /_sim/stats`: `{"requests": {"<route>": n, ...}, "total": n}`
- `GET /_sim/faults` and `POST /_sim/faults` with a JSON object of switches to change
- `POST /_sim/reset`: forget the request counts
"""

import asyncio
import contextlib
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from simulators.common.faults import Faults

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CONTROL_PREFIX = "/_sim/"


class SimulatorServer:
    """Subclasses add their routes in `add_routes` and answer a 5xx fault in `server_error`."""

    name = "simulator"

    def __init__(self, *, faults: Faults, seed: int = 7, clock: Callable[[], float] = time.time) -> None:
        self.faults = faults
        self.clock = clock
        self.stats: Counter[str] = Counter()
        self._fault_rng = random.Random(seed)
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()
        self.host = "127.0.0.1"
        self.port = 0

    # --- what subclasses provide ---------------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def server_error(self) -> web.StreamResponse:
        raise NotImplementedError

    async def on_start(self) -> None:
        """Start background tasks (after the socket is bound)."""

    async def on_stop(self) -> None:
        """Stop background tasks and close long-lived connections."""

    # --- lifecycle -----------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get(CONTROL_PREFIX + "stats", self._stats)
        app.router.add_get(CONTROL_PREFIX + "faults", self._get_faults)
        app.router.add_post(CONTROL_PREFIX + "faults", self._set_faults)
        app.router.add_post(CONTROL_PREFIX + "reset", self._reset)
        self.add_routes(app)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on `host:port` (port 0 picks a free one; read it back from `.port`)."""
        self._stopping.clear()
        self._runner = web.AppRunner(self.app(), handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.host, self.port = host, self._runner.addresses[0][1]
        await self.on_start()

    async def stop(self) -> None:
        self._stopping.set()
        await self.on_stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "SimulatorServer":
        await self.start(self.host, self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def request_count(self, route: str) -> int:
        """Requests received on `route` (the path as registered, e.g. `/api/v3/klines`)."""
        return self.stats[route]

    # --- the generic faults --------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(CONTROL_PREFIX):
            return await handler(request)
        self.stats[_route_of(request)] += 1
        if self.faults.latency:
            await asyncio.sleep(self.faults.latency)
        if self.faults.hang:
            await self._hang()
        if self.faults.error_rate and self._fault_rng.random() < self.faults.error_rate:
            return self.server_error()
        return await handler(request)

    async def _hang(self) -> None:
        """Wait until the switch is turned off or the server stops; a stopping server drops the request."""
        while self.faults.hang and not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), 0.05)
        if self._stopping.is_set():
            raise web.HTTPServiceUnavailable()

    # --- control API ---------------------------------------------------------------------------------

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response({"requests": dict(self.stats), "total": sum(self.stats.values()),
                                  **self.extra_stats()})

    def extra_stats(self) -> dict[str, Any]:
        return {}

    async def _get_faults(self, request: web.Request) -> web.Response:
        return web.json_response(self.faults.as_json())

    async def _set_faults(self, request: web.Request) -> web.Response:
        try:
            self.faults.update(await request.json())
        except KeyError as unknown:
            return web.json_response({"error": f"unknown switch {unknown}"}, status=400)
        return web.json_response(self.faults.as_json())

    async def _reset(self, request: web.Request) -> web.Response:
        self.stats.clear()
        return web.json_response({})


def _route_of(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else request.path
