"""`TradingViewSimulator`: an aiohttp server speaking TradingView's WebSocket protocol on
`/socket.io/websocket`, plus the v3 symbol search and the sign-in endpoint, for tests and local runs."""

import asyncio
import contextlib
import random
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import orjson
import structlog
from aiohttp import WSMsgType, web

from simulators.tradingview.client_session import ClientSession
from simulators.tradingview.faults import Faults
from simulators.tradingview.market import DEFAULT_SYMBOLS, Market, SymbolSpec
from src.providers.tradingview.framing import encode_frame

log = structlog.get_logger("tradingview.simulator")

WS_PATH = "/socket.io/websocket"
SEARCH_PATH = "/symbol_search/v3/"
SIGNIN_PATH = "/accounts/signin/"
SEARCH_PAGE = 50


class TradingViewSimulator:
    """Start with `await sim.start(host, port)` (port 0 picks a free one) and stop with `await sim.stop()`.

    `faults` is live: tests change it while clients are connected. `push_tick` feeds deterministic trades.
    """

    def __init__(
        self,
        *,
        symbols: Iterable[SymbolSpec] = DEFAULT_SYMBOLS,
        seed: int = 7,
        history_bars: int = 12_000,
        anchor: float | None = None,
        max_bars_per_request: int = 5_000,  # the plan cap per create_series / request_more_data
        max_depth_bars: int | None = None,  # the account's depth window; None: all history
        heartbeat_interval: float = 10.0,
        hole_rate: float = 0.0,  # share of intraday bars missing from generated histories
        resolve_latency: float = 0.02,  # how long resolving a symbol takes before its answer is sent
        tokens: Iterable[str] = (),
        users: dict[str, str] | None = None,  # username -> password for the sign-in endpoint
        clock: Callable[[], float] = time.time,
        faults: Faults | None = None,
    ) -> None:
        self.clock = clock
        self.market = Market({s.ticker: s for s in symbols}, anchor if anchor is not None else clock(),
                             seed, history_bars, hole_rate)
        self.max_bars_per_request = max_bars_per_request
        self.max_depth_bars = max_depth_bars
        self.heartbeat_interval = heartbeat_interval
        self.resolve_latency = resolve_latency
        self.tokens = set(tokens)
        self.users = dict(users or {})
        self.faults = faults or Faults()
        self.clients: set[ClientSession] = set()
        self.stats: Counter[str] = Counter()
        self.received: list[tuple[str, list[Any]]] = []
        self.replay: list[tuple[str, float, float | None, float]] = []  # ticks from a CSV
        self._runner: web.AppRunner | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._rng = random.Random(seed)
        self.host = "127.0.0.1"
        self.port = 0

    # --- lifecycle -----------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get(WS_PATH, self._websocket)
        app.router.add_get(SEARCH_PATH, self._search)
        app.router.add_post(SIGNIN_PATH, self._signin)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._runner = web.AppRunner(self.app(), handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert server is not None
        sockets: list[Any] = list(getattr(server, "sockets", None) or [])
        self.host, self.port = host, sockets[0].getsockname()[1]
        self._ticker = asyncio.create_task(self._tick_loop(), name="simulator-ticks")
        log.info("simulator_started", url=self.ws_url)

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        await self.drop_all_connections()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}{WS_PATH}?from=chart%2F&type=chart"

    @property
    def search_url(self) -> str:
        return self.base_url + SEARCH_PATH

    @property
    def signin_url(self) -> str:
        return self.base_url + SIGNIN_PATH

    # --- controls ------------------------------------------------------------------------------------

    async def drop_all_connections(self) -> None:
        """Cut every client off abruptly, as a network failure would."""
        for client in list(self.clients):
            if isinstance(client.transport, asyncio.Transport):
                client.transport.abort()
            else:
                await client.ws.close()

    async def push_tick(self, ticker: str, price: float, cumulative_volume: float | None = None,
                        when: float | None = None) -> None:
        """A trade: quote deltas to quote sessions, `du`/`timescale_update` to chart series. Without `when`,
        it trades now (a delayed symbol's trade times run its delay behind the clock)."""
        if when is None:
            when = self.clock() - self.market.specs[ticker].delay
        changed, touched = self.market.apply_tick(ticker, price, cumulative_volume, when,
                                                  recorded=price * (1 + self.faults.history_drift))
        for client in list(self.clients):
            messages = client.live_updates(ticker, touched)
            if changed:
                messages.extend(client.quote_updates(ticker, changed))
            if messages:
                await client.push(*messages)

    def new_session(self, ticker: str) -> None:
        """Begin a new trading session for `ticker`: its cumulative volume restarts from 0."""
        self.market.new_session(ticker)

    def record(self, method: str, params: list[Any]) -> None:
        self.stats[f"request:{method}"] += 1
        if len(self.received) < 10_000:
            self.received.append((method, params))

    def parse_session(self, text: Any) -> str:
        """The `session` of a `={...}` resolve spec (`regular` for a plain `EXCH:SYM`)."""
        if isinstance(text, str) and text.startswith("="):
            try:
                spec = orjson.loads(text[1:])
            except orjson.JSONDecodeError:
                return "regular"
            session = spec.get("session") if isinstance(spec, dict) else None
            return session if isinstance(session, str) else "regular"
        return "regular"

    def parse_symbol(self, text: Any) -> str | None:
        """The ticker in a plain `EXCH:SYM` or a `={"symbol": ...}` spec."""
        if not isinstance(text, str):
            return None
        if text.startswith("="):
            try:
                spec = orjson.loads(text[1:])
            except orjson.JSONDecodeError:
                return None
            symbol = spec.get("symbol") if isinstance(spec, dict) else None
            return symbol if isinstance(symbol, str) else None
        return text

    def symbol_info(self, ticker: str) -> dict[str, Any]:
        spec = self.market.specs[ticker]
        delayed = {"delay": spec.delay} if spec.delay else {}
        return {
            **delayed,
            **self._sessions_info(spec),
            "name": spec.code, "full_name": spec.full_name, "pro_name": spec.ticker, "base_name": [spec.ticker],
            "description": spec.description, "short_description": spec.description,
            "exchange": spec.exchange, "listed_exchange": spec.exchange, "type": spec.type,
            "typespecs": [spec.type], "currency_code": spec.currency, "session_display": spec.session,
            "pricescale": spec.pricescale,
            "minmov": 1, "minmove2": 0, "fractional": False, "has_intraday": True,
            "visible_plots_set": "ohlcv" if spec.has_volume else "ohlc", "is_tradable": True,
        }

    def _sessions_info(self, spec: SymbolSpec) -> dict[str, Any]:
        """TradingView's `timezone`, `session`, `session_holidays`, `session-correction` and `subsessions`."""
        hours = spec.hours
        if hours is None:
            return {"timezone": spec.timezone, "session": spec.session}
        years = (1990, datetime.fromtimestamp(self.market.anchor, UTC).year + 1)
        regular = {"id": "regular", "description": "Regular Trading Hours", "private": False,
                   "session": hours.session_string(), "session-correction": hours.corrections_string(*years)}
        subsessions = [regular]
        if hours.has_extended:
            subsessions.append({"id": "extended", "description": "Extended Trading Hours", "private": False,
                                "session": hours.session_string(extended=True),
                                "session-correction": hours.corrections_string(*years, extended=True)})
        return {"timezone": hours.timezone, "session": hours.session_string(),
                "session_holidays": hours.holidays_string(*years),
                "session-correction": regular["session-correction"], "subsessions": subsessions}

    def watched(self) -> list[str]:
        """The symbols some client has in a quote session or a chart: the ones generated ticks move."""
        names = {self.parse_symbol(n) for c in self.clients for names in c.quotes.values() for n in names}
        names |= {t for c in self.clients for chart in c.charts.values() for t in chart.aliases.values()}
        return [t for t in self.market.specs if t in names]

    async def _tick_loop(self) -> None:
        while True:
            rate = self.faults.tick_rate
            if rate <= 0:
                await asyncio.sleep(0.05)
                continue
            await asyncio.sleep(1 / rate)
            if self.replay:
                ticker, price, volume, when = self.replay.pop(0)
                await self.push_tick(ticker, price, volume, when)
                continue
            for ticker in self.watched():
                spec = self.market.specs[ticker]
                if not spec.trades(self.clock() - spec.delay):
                    continue  # ticks only while the symbol's session trades
                quote = self.market.quote(ticker)
                price = round(quote["lp"] * (1 + self._rng.gauss(0, 0.0005)), 8)
                volume = round(quote["volume"] + self._rng.uniform(0, 5), 5)
                await self.push_tick(ticker, price, volume)

    # --- HTTP handlers -------------------------------------------------------------------------------

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        if self.faults.reject_upgrade is not None:
            return web.Response(status=self.faults.reject_upgrade, text="rejected by simulator")
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        self.stats["connections"] += 1
        client = ClientSession(self, ws, self.stats["connections"])
        client.transport = request.transport
        self.clients.add(client)
        await ws.send_str(encode_frame(orjson.dumps(self._hello()).decode()))
        beats = asyncio.create_task(client.heartbeat_loop())
        answers = asyncio.create_task(client.serve_requests())
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    client.receive(msg.data)
                elif msg.type is WSMsgType.ERROR:
                    break
        finally:
            beats.cancel()
            answers.cancel()
            self.clients.discard(client)
        return ws

    def _hello(self) -> dict[str, Any]:
        now = self.clock()
        return {"session_id": f"<0.{len(self.clients)}.1>_sim1-charts-free-1@sim1-compute-1",
                "timestamp": int(now), "timestampMs": int(now * 1000),
                "release": "simulator_release_1", "studies_metadata_hash": "0" * 40, "auth_scheme_vsn": 2,
                "protocol": "json", "via": f"{self.host}:{self.port}", "javastudies": ["3.66"]}

    async def _search(self, request: web.Request) -> web.Response:
        self.stats["search_calls"] += 1
        if self.faults.delay:
            await asyncio.sleep(self.faults.delay)
        text = request.query.get("text", "").upper()
        exchange = request.query.get("exchange", "").upper()
        highlight = request.query.get("hl") == "1"
        start = int(request.query.get("start", "0") or 0)
        found = [s for s in self.market.specs.values()
                 if (text in s.code or text in s.description.upper()) and (not exchange or
                                                                           s.exchange == exchange)]
        page = found[start:start + SEARCH_PAGE]
        symbols = [{
            "symbol": s.code.replace(text, f"<em>{text}</em>") if highlight and text else s.code,
            "description": s.description, "type": s.type, "exchange": s.exchange,
            "currency_code": s.currency, "provider_id": "simulator", "source_id": s.exchange,
            "source2": {"id": s.exchange, "name": s.exchange, "description": s.exchange},
            "country": s.country, "typespecs": [s.type], "prefix": s.exchange,
        } for s in page]
        body = {"symbols_remaining": max(0, len(found) - start - len(page)), "symbols": symbols}
        return web.json_response(body)

    async def _signin(self, request: web.Request) -> web.Response:
        self.stats["signin_calls"] += 1
        form = await request.post()
        username, password = str(form.get("username", "")), str(form.get("password", ""))
        if self.users.get(username) != password or not username:
            return web.json_response({"error": "Invalid username or password", "code": "invalid_credentials"})
        token = "sim." + secrets.token_urlsafe(24)
        self.tokens.add(token)
        return web.json_response({"error": "", "user": {"id": 1, "username": username, "auth_token": token,
                                                        "pro_plan": ""}})
