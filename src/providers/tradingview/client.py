"""`TradingViewClient`: the `MarketDataProvider` adapter for TradingView, plus a quote-session API."""

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import structlog

from src.common.errors import SymbolNotFound, UpstreamRejected, UpstreamUnavailable
from src.common.ports import SourceBars, SymbolInfo, SymbolMatch
from src.domain.market_data import Interval, OHLCVBar, QuoteTick, Symbol
from src.domain.market_data.trading_hours import TradingHours
from src.providers.tradingview.chart import ChartRequest
from src.providers.tradingview.connection import ConnectionSettings, TradingViewConnection
from src.providers.tradingview.messages import ANONYMOUS_TOKEN
from src.providers.tradingview.parsing import search_matches, symbol_info
from src.providers.tradingview.quotes import QuoteCallback, QuoteSession, QuoteStream, parse_symbols
from src.providers.tradingview.rate_limit import RateLimiter

log = structlog.get_logger("tradingview.client")

DEFAULT_WS_URL = "wss://data.tradingview.com/socket.io/websocket?from=chart%2F&type=chart"
DEFAULT_SEARCH_URL = "https://symbol-search.tradingview.com/symbol_search/v3/"
DEFAULT_SIGNIN_URL = "https://www.tradingview.com/accounts/signin/"
ORIGIN = "https://www.tradingview.com"
USER_AGENT = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/138.0.0.0 Safari/537.36")


@dataclass(frozen=True, slots=True)
class TradingViewConfig:
    ws_url: str = DEFAULT_WS_URL
    search_url: str = DEFAULT_SEARCH_URL
    signin_url: str = DEFAULT_SIGNIN_URL
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    request_timeout: float = 20.0  # each wait for an answer (one page of bars, a resolve, a search)
    connect_timeout: float = 10.0
    idle_timeout: float = 30.0  # watchdog: reconnect after this long without any message
    backoff_base: float = 1.0
    backoff_cap: float = 60.0
    rate_limit: float | None = 5.0  # requests per second to TradingView; None disables
    rate_burst: int = 5
    max_bars_per_request: int = 5_000  # the anonymous/free plan cap; each page asks for at most this
    max_concurrent_charts: int = 8
    range_requests: bool = True  # fetch_range by `create_series` ranges (False: page back from the newest)


class TradingViewClient:
    """Async TradingView client over one multiplexed WebSocket connection.

    Use as `async with TradingViewClient(config) as tv: ...` (or `start()`/`close()`). It connects lazily
    on the first request and reconnects by itself; `connected` and `reconnect_count` show its state.
    """

    def __init__(self, config: TradingViewConfig | None = None) -> None:
        self.config = config or TradingViewConfig()
        self.limiter = RateLimiter(self.config.rate_limit, self.config.rate_burst)
        self.login_count = 0
        self._http: aiohttp.ClientSession | None = None
        self._connection: TradingViewConnection | None = None
        self._quotes: QuoteSession | None = None
        self._token: str | None = None
        self._login_lock = asyncio.Lock()
        self._quote_lock = asyncio.Lock()
        self._chart_slots = asyncio.Semaphore(self.config.max_concurrent_charts)

    # --- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> None:
        self._ensure_started()
        await self._conn.wait_ready(self.config.connect_timeout)

    async def close(self) -> None:
        if self._quotes is not None:
            await self._quotes.close()
        if self._connection is not None:
            await self._connection.close()
        if self._http is not None:
            await self._http.close()
        self._connection = self._http = self._quotes = None

    async def __aenter__(self) -> "TradingViewClient":
        self._ensure_started()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        return self._connection is not None and self._connection.connected

    @property
    def reconnect_count(self) -> int:
        return 0 if self._connection is None else self._connection.reconnect_count

    @property
    def connection(self) -> TradingViewConnection:
        return self._conn

    def _ensure_started(self) -> None:
        if self._http is None:
            self._http = aiohttp.ClientSession(headers={"Origin": ORIGIN, "User-Agent": USER_AGENT})
        if self._connection is None:
            c = self.config
            settings = ConnectionSettings(
                url=c.ws_url, headers={"Origin": ORIGIN, "User-Agent": USER_AGENT},
                connect_timeout=c.connect_timeout, idle_timeout=c.idle_timeout,
                backoff_base=c.backoff_base, backoff_cap=c.backoff_cap,
            )
            self._connection = TradingViewConnection(settings, self._http, self.auth_token,
                                                     self._on_protocol_error)
        self._connection.start()

    @property
    def _conn(self) -> TradingViewConnection:
        self._ensure_started()
        assert self._connection is not None
        return self._connection

    # --- history -------------------------------------------------------------------------------------

    async def fetch_bars(self, symbol: Symbol, interval: Interval, n_bars: int, *,
                         hours: TradingHours | None = None) -> list[OHLCVBar]:
        """The newest `n_bars` bars, oldest first, unique by time; pages back with `request_more_data`
        until `n_bars` or the start of history (a page that adds nothing). With `hours.extended`, the
        symbol's extended-hours bars."""
        if n_bars <= 0:
            return []
        bars, unusable = await self._page_back(symbol, interval, n_bars, lambda _: False, _session(hours))
        return SourceBars((bars[t] for t in sorted(bars)[-n_bars:]), unusable=unusable)

    async def fetch_range(self, symbol: Symbol, interval: Interval, start: int, end: int, *,
                          hours: TradingHours | None = None) -> list[OHLCVBar]:
        """Bars opening in [start, end], oldest first. With range requests (the default) the range is cut
        into pieces of at most one page of bar periods, fetched at once, each by `create_series` with a
        `r,<from>:<to>` range: the cost depends on the range's length, not on how far back it lies.
        Otherwise pages back from the newest bar until `start` is reached or history ends."""
        if start > end:
            return []
        session = _session(hours)
        if not self.config.range_requests:
            bars, unusable = await self._page_back(symbol, interval, None, lambda oldest: oldest <= start, session)
            return SourceBars((bars[t] for t in sorted(bars) if start <= t <= end), unusable=unusable)
        pieces = range_pieces(interval, start, end, self.config.max_bars_per_request)
        found = await asyncio.gather(*(self._range(symbol, interval, a, b, session) for a, b in pieces))
        merged = {bar.time: bar for bars, _ in found for bar in bars.values()}
        return SourceBars((merged[t] for t in sorted(merged) if start <= t <= end),
                          unusable=sum(unusable for _, unusable in found))

    async def _range(self, symbol: Symbol, interval: Interval, start: int, end: int,
                     session: str) -> tuple[dict[int, OHLCVBar], int]:
        """One range request for the bars opening in [start, its last grid period's end) and the rows
        skipped as no valid bar; the caller keeps the bars inside the asked range."""
        async with self._chart_slots:
            request = ChartRequest(symbol, interval, session=session)
            await self._open(request, self.config.max_bars_per_request, (start, interval.next_open(end) - 1))
            try:
                await request.wait_for(lambda: request.completed >= 1, self.config.request_timeout,
                                       f"bars of {symbol} {interval} in a range")
            finally:
                await self._close_chart(request)
        return request.bars, request.skipped

    async def _page_back(
        self, symbol: Symbol, interval: Interval, n_bars: int | None, reached: Callable[[int], bool],
        session: str = "regular",
    ) -> tuple[dict[int, OHLCVBar], int]:
        """Open a chart and page back until `n_bars` bars (None: no count limit) or `reached(oldest)`; the
        bars and the rows skipped as no valid bar."""
        page = self.config.max_bars_per_request
        async with self._chart_slots:
            request = ChartRequest(symbol, interval, session=session)
            await self._open(request, page if n_bars is None else min(n_bars, page))
            try:
                await request.wait_for(lambda: request.completed >= 1, self.config.request_timeout,
                                       f"bars for {symbol} {interval}")
                while not _satisfied(request.bars, n_bars, reached):
                    before, done = len(request.bars), request.completed
                    wanted = page if n_bars is None else min(page, n_bars - before)
                    await self.limiter.acquire()
                    await self._conn.send(request.more_frame(wanted), within=self.config.request_timeout)
                    await request.wait_for(lambda d=done: request.completed > d,  # type: ignore[misc]
                                           self.config.request_timeout, f"more bars for {symbol}")
                    if len(request.bars) == before:
                        break
            finally:
                await self._close_chart(request)
        return request.bars, request.skipped

    async def resolve_symbol(self, symbol: Symbol) -> SymbolInfo:
        request = ChartRequest(symbol)
        await self._open(request)
        try:
            await request.wait_for(lambda: request.info is not None, self.config.request_timeout,
                                   f"resolve {symbol}")
        finally:
            await self._close_chart(request)
        return symbol_info(symbol, request.info or {})

    async def _open(self, request: ChartRequest, n_bars: int | None = None,
                    span: tuple[int, int] | None = None) -> None:
        await self.limiter.acquire()
        self._conn.register(request.id, request)
        try:
            await self._conn.send(*request.open_frames(n_bars, span), within=self.config.request_timeout)
        except BaseException:
            self._conn.unregister(request.id)
            raise

    async def _close_chart(self, request: ChartRequest) -> None:
        self._conn.unregister(request.id)
        if self.connected and not isinstance(request.error, UpstreamUnavailable):
            with contextlib.suppress(UpstreamUnavailable):
                await self._conn.send(request.close_frame(), within=self.config.request_timeout)

    # --- search and login (HTTP) ---------------------------------------------------------------------

    async def search_symbols(self, query: str, *, exchange: str | None = None) -> list[SymbolMatch]:
        text = query.strip()
        if exchange is None and ":" in text:
            exchange, text = text.split(":", 1)
        params = {"text": text, "hl": "1", "exchange": (exchange or "").upper(), "lang": "en",
                  "search_type": "", "domain": "production", "start": "0"}
        await self.limiter.acquire()
        body = await self._http_json("GET", self.config.search_url, params=params)
        return search_matches(body)

    async def auth_token(self) -> str:
        """The token for `set_auth_token`: anonymous without credentials, else one login, kept."""
        if not self.config.username:
            return ANONYMOUS_TOKEN
        async with self._login_lock:
            if self._token is None:
                self._token = await self._login()
            return self._token

    async def _login(self) -> str:
        self.login_count += 1
        form = {"username": self.config.username or "", "password": self.config.password or "",
                "remember": "on"}
        body = await self._http_json("POST", self.config.signin_url, data=form)
        user = body.get("user") if isinstance(body, dict) else None
        token = user.get("auth_token") if isinstance(user, dict) else None
        if not token:
            error = body.get("error") if isinstance(body, dict) else None
            code = body.get("code") if isinstance(body, dict) else None
            raise UpstreamRejected(f"TradingView login failed: {error or 'no auth token'} ({code or '-'})")
        log.info("tradingview_logged_in", username=self.config.username)
        return str(token)

    def _on_protocol_error(self, reason: str) -> None:
        if reason == "bad auth token":
            self._token = None  # maybe expired: log in again on the next connection

    async def _http_json(self, method: str, url: str, **kwargs: Any) -> Any:
        self._ensure_started()
        assert self._http is not None
        headers = {"Referer": ORIGIN + "/"}
        timeout = aiohttp.ClientTimeout(total=self.config.request_timeout)
        try:
            async with self._http.request(method, url, headers=headers, timeout=timeout, **kwargs) as resp:
                if resp.status in (401, 403, 429):
                    raise UpstreamRejected(f"TradingView {url} answered HTTP {resp.status}")
                if resp.status >= 400:
                    raise UpstreamUnavailable(f"TradingView {url} answered HTTP {resp.status}")
                return await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise UpstreamUnavailable(f"TradingView {url} failed: {exc!r}") from exc

    # --- quotes --------------------------------------------------------------------------------------

    async def subscribe(self, symbols: Iterable[Symbol | str]) -> None:
        """Add symbols to the quote session and wait for their snapshots. Unknown symbols are dropped
        from the subscription and reported together as SymbolNotFound after the others are added."""
        session = await self._quote_session()
        new, waits = session.add(parse_symbols(symbols))
        if new:
            await self.limiter.acquire()
            await self._conn.send(session.add_frame(new), within=self.config.request_timeout)
        if not waits:
            return
        done, pending = await asyncio.wait(waits.values(), timeout=self.config.request_timeout)
        missing = [name for name, f in waits.items() if f in done and f.exception() is not None]
        if pending:
            names = [name for name, f in waits.items() if f in pending]
            raise UpstreamUnavailable(f"no quote snapshot for {', '.join(names)} "
                                      f"within {self.config.request_timeout:g}s")
        if missing:
            raise SymbolNotFound(f"unknown symbols: {', '.join(missing)}", field="symbol")

    async def unsubscribe(self, symbols: Iterable[Symbol | str]) -> None:
        if self._quotes is None:
            return
        names = self._quotes.remove(parse_symbols(symbols))
        if names and self.connected:
            await self._conn.send(self._quotes.remove_frame(names), within=self.config.request_timeout)

    @property
    def subscriptions(self) -> list[Symbol]:
        return [] if self._quotes is None else list(self._quotes.symbols.values())

    def latest_quote(self, symbol: Symbol) -> QuoteTick | None:
        return None if self._quotes is None else self._quotes.latest(symbol)

    def quote_stream(self, maxsize: int = 10_000) -> QuoteStream:
        """An async iterator of every merged quote from now on (`async with` closes it)."""
        return self._quote_state().stream(maxsize)

    def add_quote_callback(self, callback: QuoteCallback) -> None:
        self._quote_state().add_callback(callback)

    def remove_quote_callback(self, callback: QuoteCallback) -> None:
        if self._quotes is not None:
            self._quotes.remove_callback(callback)

    def _quote_state(self) -> QuoteSession:
        if self._quotes is None:
            self._quotes = QuoteSession()
        return self._quotes

    async def _quote_session(self) -> QuoteSession:
        session = self._quote_state()
        conn = self._conn
        async with self._quote_lock:
            if not conn.is_registered(session.id):
                await conn.wait_ready(self.config.request_timeout)
                conn.register(session.id, session)
                await conn.send(*session.create_frames(), within=self.config.request_timeout)
        return session


def _session(hours: TradingHours | None) -> str:
    return "extended" if hours is not None and hours.extended else "regular"


def range_pieces(interval: Interval, start: int, end: int, page: int) -> list[tuple[int, int]]:
    """[start, end] cut into consecutive pieces (first, last), each asked as [first, next_open(last)): at most
    `page - 1` interval lengths, which hold at most `page` bars of a session calendar (its bars are an
    interval long but where a session ends; one more can open in a piece only where sessions break within
    one interval, which the next sync round then fetches). The first piece starts at `start` itself: a
    session-stamped bar opening there (13:30) is not on the grid."""
    pieces = []
    first = start
    while first <= end:
        last = _periods_after(interval, first, max(0, page - 2), end)
        pieces.append((first, last))
        first = interval.next_open(last)
    return pieces


def _periods_after(interval: Interval, opened: int, periods: int, end: int) -> int:
    """The open `periods` periods after `opened`, or the last one not after `end`."""
    if interval.seconds:
        return opened + min(periods, (end - opened) // interval.seconds) * interval.seconds
    for _ in range(periods):
        following = interval.next_open(opened)
        if following > end:
            break
        opened = following
    return opened


def _satisfied(bars: dict[int, OHLCVBar], n_bars: int | None, reached: Callable[[int], bool]) -> bool:
    if n_bars is not None and len(bars) >= n_bars:
        return True
    return bool(bars) and reached(min(bars))
