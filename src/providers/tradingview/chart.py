"""A short-lived chart session: resolve one symbol and, optionally, load one series of bars."""

import asyncio
from collections.abc import Callable
from typing import Any

import structlog

from src.common.errors import SymbolNotFound, UpstreamRejected, UpstreamUnavailable
from src.domain.market_data import Interval, OHLCVBar, Symbol
from src.providers.tradingview.messages import Message, request_frame, session_id, symbol_spec
from src.providers.tradingview.parsing import parse_bars, series_rows
from src.providers.tradingview.resolutions import RESOLUTION

log = structlog.get_logger("tradingview.chart")

SYMBOL_ALIAS = "sds_sym_1"
SERIES_ID = "sds_1"
TURNAROUND = "s1"


class ChartRequest:
    """Collects what the server sends for one chart session; waits end on success, error or timeout."""

    def __init__(self, symbol: Symbol, interval: Interval | None = None, *, session: str = "regular") -> None:
        self.id = session_id("cs")
        self.symbol = symbol
        self.interval = interval
        self.session = session  # TradingView's `regular` or `extended` hours
        self.info: dict[str, Any] | None = None
        self.bars: dict[int, OHLCVBar] = {}
        self.completed = 0
        self.skipped = 0
        self.error: Exception | None = None
        self._changed = asyncio.Event()

    # --- frames to send ------------------------------------------------------------------------------

    def open_frames(self, n_bars: int | None = None, span: tuple[int, int] | None = None) -> list[str]:
        """Open the chart and resolve the symbol; with `n_bars`, create the series: the newest `n_bars`
        bars, or with `span` = (from, to) the bars opening in that range (a range request)."""
        frames = [
            request_frame("chart_create_session", self.id, ""),
            request_frame("resolve_symbol", self.id, SYMBOL_ALIAS,
                          symbol_spec(self.symbol.ticker, session=self.session)),
        ]
        if self.interval is not None and n_bars is not None:
            period = "" if span is None else f"r,{span[0]}:{span[1]}"
            frames.append(request_frame("create_series", self.id, SERIES_ID, TURNAROUND, SYMBOL_ALIAS,
                                        RESOLUTION[self.interval], n_bars, period))
        return frames

    def more_frame(self, n_bars: int) -> str:
        return request_frame("request_more_data", self.id, SERIES_ID, n_bars)

    def close_frame(self) -> str:
        return request_frame("chart_delete_session", self.id)

    # --- SessionHandler ------------------------------------------------------------------------------

    def restore_frames(self) -> list[str]:
        return []  # in-flight requests fail on a lost connection; callers retry

    def on_connection_lost(self, error: Exception) -> None:
        self._fail(error)

    def on_message(self, message: Message) -> None:
        handler = self._HANDLERS.get(message.method)
        if handler is not None:
            handler(self, message.params)

    def _on_bars(self, params: list[Any]) -> None:
        if self.interval is None:
            return
        bars, skipped = parse_bars(series_rows(params, SERIES_ID), self.interval)
        if skipped:
            self.skipped += skipped
            log.warning("tradingview_bars_skipped", symbol=self.symbol.ticker, count=skipped)
        for bar in bars:
            self.bars[bar.time] = bar
        self._changed.set()

    def _on_resolved(self, params: list[Any]) -> None:
        info = params[2] if len(params) > 2 else None
        self.info = info if isinstance(info, dict) else {}
        self._changed.set()

    def _on_completed(self, params: list[Any]) -> None:
        self.completed += 1
        self._changed.set()

    def _on_symbol_error(self, params: list[Any]) -> None:
        reason = params[2] if len(params) > 2 else "invalid symbol"
        self._fail(SymbolNotFound(f"{self.symbol.ticker}: {reason}", field="symbol"))

    def _on_series_error(self, params: list[Any]) -> None:
        reason = str(params[3]) if len(params) > 3 else "series error"
        if reason == "resolve error":
            self._fail(SymbolNotFound(f"{self.symbol.ticker}: {reason}", field="symbol"))
        else:
            self._fail(UpstreamRejected(f"TradingView series_error for {self.symbol.ticker}: {reason}"))

    def _on_critical_error(self, params: list[Any]) -> None:
        detail = " ".join(str(p) for p in params[1:3])
        self._fail(UpstreamRejected(f"TradingView critical_error: {detail}"))

    _HANDLERS: dict[str, Callable[["ChartRequest", list[Any]], None]] = {
        "timescale_update": _on_bars,
        "du": _on_bars,
        "symbol_resolved": _on_resolved,
        "series_completed": _on_completed,
        "symbol_error": _on_symbol_error,
        "series_error": _on_series_error,
        "critical_error": _on_critical_error,
    }

    def _fail(self, error: Exception) -> None:
        if self.error is None:  # the first error is the cause; later ones are its echoes
            self.error = error
        self._changed.set()

    # --- waiting -------------------------------------------------------------------------------------

    async def wait_for(self, done: Callable[[], bool], within: float, what: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            if self.error is not None:
                raise self.error
            if done():
                return
            self._changed.clear()
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise UpstreamUnavailable(f"TradingView did not answer {what} within {within:g}s")
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                continue  # re-check; the deadline test above raises
