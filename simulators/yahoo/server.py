"""`YahooSimulator`: the Yahoo Finance endpoints yfinance uses (v8 chart, v1 search, v7 quote and the
cookie/crumb handshake), on one host standing for all of Yahoo's (fc., query1., query2.finance.yahoo.com).

Beside the common control API (`simulators.common.server`), `GET /_sim/stats` reports `crumbs_issued`.
"""

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from aiohttp import web

from simulators.common.server import Handler, SimulatorServer
from simulators.yahoo import chart, meta
from simulators.yahoo.faults import YahooFaults
from simulators.yahoo.handshake import Handshake, finance_error
from simulators.yahoo.instruments import DEFAULT_INSTRUMENTS, Instrument
from simulators.yahoo.market import YahooMarket
from simulators.yahoo.search import search_body

DOWN_PAGE = "<html><body><h1>Will be right back...</h1><p>Thank you for your patience.</p></body></html>"


class YahooSimulator(SimulatorServer):
    """`await sim.start(host, port)`, then send every Yahoo URL's path to `sim.base_url` (see
    `tests/fixtures/yahoo_simulator.py` for yfinance). `sim.faults` is live."""

    name = "yahoo"

    def __init__(self, *, instruments: Iterable[Instrument] = DEFAULT_INSTRUMENTS, seed: int = 7,
                 clock: Callable[[], float] = time.time, faults: YahooFaults | None = None) -> None:
        self.faults: YahooFaults = faults or YahooFaults()
        super().__init__(faults=self.faults, seed=seed, clock=clock)
        self.instruments = {i.symbol: i for i in instruments}
        self.market = YahooMarket(self.instruments, seed)
        self.handshake = Handshake()
        self._requests: dict[str, list[float]] = defaultdict(list)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/", self.handshake.cookie_page)
        app.router.add_get("/v1/test/getcrumb", self._limited(self._crumb))
        app.router.add_get("/v8/finance/chart/{symbol}", self._limited(self._chart))
        app.router.add_get("/v1/finance/search", self._limited(self._search))
        app.router.add_get("/v7/finance/quote", self._limited(self._quote))

    def server_error(self) -> web.StreamResponse:
        return web.Response(status=503, text=DOWN_PAGE, content_type="text/html")

    def extra_stats(self) -> dict[str, Any]:
        return {"crumbs_issued": len(self.handshake.crumbs)}

    # --- rate limit ----------------------------------------------------------------------------------

    def _limited(self, handler: Handler) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            if self._over_limit(request.remote or "unknown"):
                return web.Response(status=429, text="Too Many Requests\r\n", content_type="text/plain")
            return await handler(request)

        return handle

    def _over_limit(self, client: str) -> bool:
        if self.faults.force_rate_limit:
            return True
        limit = self.faults.rate_limit
        if limit is None:
            return False
        now = self.clock()
        recent = [t for t in self._requests[client] if t > now - self.faults.rate_window]
        recent.append(now)
        self._requests[client] = recent
        return len(recent) > limit

    def _needs_crumb(self, endpoint: str) -> bool:
        mode = self.faults.require_crumb
        return mode == "all" or (mode == "quote" and endpoint == "quote")

    # --- endpoints -----------------------------------------------------------------------------------

    async def _crumb(self, request: web.Request) -> web.StreamResponse:
        return await self.handshake.crumb(request)

    def _instrument(self, symbol: str) -> Instrument | None:
        if symbol in self.faults.unknown_symbols:
            return None
        return self.instruments.get(symbol)

    async def _chart(self, request: web.Request) -> web.StreamResponse:
        if self._needs_crumb("chart") and not self.handshake.valid(request):
            return self.handshake.invalid_crumb()
        inst = self._instrument(request.match_info["symbol"])
        now = self.clock()
        try:
            if inst is None:
                raise chart.not_found()
            parsed = chart.parse_request(dict(request.query), inst, self.market, now)
            body = chart.chart_body(parsed, inst, self.market, now)
        except chart.ChartError as error:
            return web.json_response(error.body(), status=error.status)
        return web.json_response(body)

    async def _search(self, request: web.Request) -> web.StreamResponse:
        if self._needs_crumb("search") and not self.handshake.valid(request):
            return self.handshake.invalid_crumb()
        if "q" not in request.query:
            return finance_error(400, "Bad Request", "Missing required query parameter=q")
        count = int(request.query.get("quotesCount", "6") or 6)
        known = [i for i in self.instruments.values() if i.symbol not in self.faults.unknown_symbols]
        return web.json_response(search_body(request.query["q"], known, count))

    async def _quote(self, request: web.Request) -> web.StreamResponse:
        if self._needs_crumb("quote") and not self.handshake.valid(request):
            return self.handshake.invalid_crumb()
        names = [s for s in request.query.get("symbols", "").split(",") if s]
        if not names:
            return web.json_response({"quoteResponse": {"result": [], "error": {
                "code": "argument-error", "description": 'Missing value for the "symbols" argument'}}}, status=400)
        now = self.clock()
        found = [self._instrument(name) for name in names]
        result = [meta.quote(inst, self.market, now) for inst in found if inst is not None]
        return web.json_response({"quoteResponse": {"result": result, "error": None}})
