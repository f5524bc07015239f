"""One client connection on the simulator: hello, heartbeats, request dispatch, chart and quote sessions.

As the protocol reference describes the server: a client that leaves heartbeats unanswered is dropped;
`series_loading` comes first for every series, also before its `symbol_error`/`series_error`; a quote
session sends only the fields its `quote_set_fields` asked for (all of them when it asked for none);
`create_series` takes a range as its 7th parameter (and `modify_series` as its 6th), and the `3M`, `6M`,
`12M` resolutions. Range index policy: a range delivers the bars opening in [from, to] within the depth
window, at most `max(bars, 1)` and never more than the plan cap (the newest ones), indexed from 0.
"""

from __future__ import annotations

import asyncio
import bisect
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
import structlog
from aiohttp import web

from simulators.tradingview.resolutions import Resolution, range_of, resolution_of
from src.providers.tradingview.framing import (
    FrameError,
    decode_frames,
    encode_frame,
    encode_frames,
    heartbeat_payload,
    is_heartbeat,
)
from src.providers.tradingview.messages import ANONYMOUS_TOKEN

if TYPE_CHECKING:
    from simulators.tradingview.server import TradingViewSimulator

log = structlog.get_logger("tradingview.simulator")

# method -> (min params, max params); None = unbounded
ARITY: dict[str, tuple[int, int | None]] = {
    "set_auth_token": (1, 1), "set_locale": (1, 2), "set_data_quality": (0, 1),
    "chart_create_session": (1, 2), "chart_delete_session": (1, 1), "switch_timezone": (2, 2),
    "resolve_symbol": (3, 3), "create_series": (6, 7), "modify_series": (6, 6), "remove_series": (2, 2),
    "request_more_data": (3, 3), "quote_create_session": (1, 1), "quote_delete_session": (1, 1),
    "quote_set_fields": (1, None), "quote_add_symbols": (2, None), "quote_remove_symbols": (2, None),
    "quote_fast_symbols": (1, None), "quote_hibernate_all": (1, 1),
}
NODE = "sim-charts-free-1@sim-charts-free-1"


@dataclass
class Series:
    series_id: str
    turnaround: str
    alias: str
    interval: Resolution
    start: int = 0  # index in the market history of the oldest delivered bar
    extended: bool = False  # the alias was resolved with `"session": "extended"`


@dataclass
class ChartSession:
    aliases: dict[str, str | None] = field(default_factory=dict)  # alias -> ticker (None: unknown)
    extended: dict[str, bool] = field(default_factory=dict)  # alias -> resolved for extended hours
    series: dict[str, Series] = field(default_factory=dict)


class ClientSession:
    def __init__(self, sim: TradingViewSimulator, ws: web.WebSocketResponse, number: int) -> None:
        self.sim = sim
        self.ws = ws
        self.transport: asyncio.BaseTransport | None = None
        self.number = number
        self.authenticated = False
        self.charts: dict[str, ChartSession] = {}
        self.quotes: dict[str, list[str]] = {}  # qs -> symbol strings exactly as added
        self.quote_fields: dict[str, frozenset[str]] = {}  # qs -> fields asked for (absent: all)
        self._resolving: dict[tuple[str, str], dict[str, Any]] = {}  # (cs, alias) -> answer not sent yet
        self._requests: asyncio.Queue[str] = asyncio.Queue()
        self.beats_sent = 0
        self.last_echo = 0
        self._batch: list[dict[str, Any]] = []
        self._lock = asyncio.Lock()

    # --- output --------------------------------------------------------------------------------------

    @staticmethod
    def _encode(obj: dict[str, Any]) -> str:
        text = orjson.dumps(obj).decode()
        # ASCII-only on the wire (non-ASCII escaped) so every LEN convention agrees.
        return text if text.isascii() else json.dumps(obj, separators=(",", ":"))

    def stamped(self, method: str, *params: Any) -> dict[str, Any]:
        now = self.sim.clock()
        return {"m": method, "p": list(params), "t": int(now), "t_ms": int(now * 1000)}

    def queue(self, obj: dict[str, Any]) -> None:
        self._batch.append(obj)

    async def flush(self) -> None:
        batch, self._batch = self._batch, []
        if batch:
            await self.send_payloads([self._encode(o) for o in batch])

    async def send_payloads(self, payloads: list[str]) -> None:
        if self.ws.closed:
            return
        async with self._lock:
            try:
                if self.sim.faults.pack_frames:
                    await self.ws.send_str(encode_frames(payloads))
                else:
                    for payload in payloads:
                        await self.ws.send_str(encode_frame(payload))
            except (ConnectionError, RuntimeError):
                pass  # the reader notices the closed socket

    async def push(self, *objs: dict[str, Any]) -> None:
        """Send outside a request (live data): packed like any other batch."""
        await self.send_payloads([self._encode(o) for o in objs])

    # --- heartbeats ----------------------------------------------------------------------------------

    async def heartbeat_loop(self) -> None:
        while not self.ws.closed:
            await asyncio.sleep(self.sim.heartbeat_interval)
            faults = self.sim.faults
            if not faults.heartbeats:
                continue
            self.beats_sent += 1
            async with self._lock:  # standalone message: many clients only recognise it that way
                try:
                    await self.ws.send_str(encode_frame(heartbeat_payload(self.beats_sent)))
                except (ConnectionError, RuntimeError):
                    return
            limit = faults.close_after_unanswered
            if limit and self.beats_sent - self.last_echo > limit:
                log.info("simulator_closing_silent_client", client=self.number)
                await self.ws.close()
                return

    # --- input ---------------------------------------------------------------------------------------

    def receive(self, data: str) -> None:
        """Every text message the reader gets: heartbeat echoes are taken at once, so a request being answered
        slowly (the `delay` fault) never makes a client look silent; requests are answered in order by
        `serve_requests`."""
        try:
            payloads = decode_frames(data)
        except FrameError:
            payloads = []
        if payloads and all(is_heartbeat(p) for p in payloads):
            for payload in payloads:
                self._on_echo(payload)
            return
        self._requests.put_nowait(data)

    async def serve_requests(self) -> None:
        while True:
            await self.on_text(await self._requests.get())

    async def on_text(self, data: str) -> None:
        try:
            payloads = decode_frames(data)
        except FrameError:
            self.queue(self.stamped("critical_error", "", "invalid frame", data[:80]))
            await self.flush()
            return
        faults = self.sim.faults
        if faults.delay and not all(is_heartbeat(p) for p in payloads):
            await asyncio.sleep(faults.delay)
            if self.ws.closed:
                return
        for payload in payloads:
            if is_heartbeat(payload):
                self._on_echo(payload)
                continue
            if faults.protocol_error is not None:
                reason, faults.protocol_error = faults.protocol_error, None
                await self.reject(reason)
                return
            if not await self._dispatch(payload):
                return
        await self.flush()

    def _on_echo(self, payload: str) -> None:
        digits = payload[3:]
        if digits.isdigit():
            self.last_echo = max(self.last_echo, int(digits))
            self.sim.stats["heartbeat_echoes"] += 1

    async def reject(self, reason: str) -> None:
        await self.flush()
        await self.send_payloads([self._encode({"m": "protocol_error", "p": [reason]})])
        await self.ws.close()

    async def _dispatch(self, payload: str) -> bool:
        """Handle one request; False once the connection has been closed."""
        try:
            message = orjson.loads(payload)
            method, params = message["m"], message["p"]
            if not isinstance(method, str) or not isinstance(params, list):
                raise TypeError
        except (orjson.JSONDecodeError, KeyError, TypeError):
            self.queue(self.stamped("critical_error", "", "invalid message", payload[:80]))
            return True
        self.sim.record(method, params)
        arity = ARITY.get(method)
        if arity is None:
            return True  # unknown methods are ignored, like the real server does for most
        low, high = arity
        if len(params) < low or (high is not None and len(params) > high) \
                or method in self.sim.faults.critical_error_methods:
            self._invalid(method, params)
            return True
        if method == "set_auth_token":
            if params[0] != ANONYMOUS_TOKEN and params[0] not in self.sim.tokens:
                await self.reject("bad auth token")
                return False
            self.authenticated = True
            return True
        handler = _HANDLERS.get(method)
        if handler is not None:
            try:
                handler(self, params)
            except (TypeError, ValueError, KeyError, IndexError):
                self._invalid(method, params)
        return True

    def _invalid(self, method: str, params: list[Any]) -> None:
        session = params[0] if params and isinstance(params[0], str) else ""
        args = ", ".join(str(p) for p in params[1:])
        self.queue(self.stamped("critical_error", session, "invalid parameters",
                                f'method: {method}. args: "[{args}]"'))

    # --- chart sessions ------------------------------------------------------------------------------

    def _chart(self, params: list[Any]) -> tuple[str, ChartSession]:
        cs = params[0]
        return cs, self.charts[cs]  # KeyError → critical_error

    def chart_create_session(self, params: list[Any]) -> None:
        self.charts[str(params[0])] = ChartSession()

    def chart_delete_session(self, params: list[Any]) -> None:
        self.charts.pop(params[0], None)

    def switch_timezone(self, params: list[Any]) -> None:
        self._chart(params)
        tz = params[1]
        if not isinstance(tz, str) or not (tz in ("exchange", "Etc/UTC") or "/" in tz) or \
                tz.startswith("Nowhere"):
            self.queue(self.stamped("critical_error", params[0], "invalid timezone",
                                    f'method: switch_timezone. args: "[{tz}]"'))

    def resolve_symbol(self, params: list[Any]) -> None:
        cs, chart = self._chart(params)
        alias, spec_text = params[1], params[2]
        ticker = self.sim.parse_symbol(spec_text)
        if ticker is None or self.sim.market.spec(ticker) is None or \
                ticker in self.sim.faults.unknown_symbols:
            chart.aliases[alias] = None
            self._resolved(cs, alias, self.stamped("symbol_error", cs, alias, "invalid symbol"))
            return
        chart.aliases[alias] = ticker
        chart.extended[alias] = self.sim.parse_session(spec_text) == "extended"
        self._resolved(cs, alias, self.stamped("symbol_resolved", cs, alias, self.sim.symbol_info(ticker)))

    def _resolved(self, cs: str, alias: str, answer: dict[str, Any]) -> None:
        """Resolving takes `resolve_latency`: a `create_series` arriving meanwhile (even in a message of its
        own, as tvdatafeed sends it) gets its `series_loading` before this answer, as from the real server."""
        latency = self.sim.resolve_latency
        if latency <= 0:
            self.queue(answer)
            return
        key = (cs, alias)
        self._resolving[key] = answer
        asyncio.get_running_loop().call_later(latency, lambda: asyncio.ensure_future(self._release(key, answer)))

    async def _release(self, key: tuple[str, str], answer: dict[str, Any]) -> None:
        if self._resolving.get(key) is answer:
            del self._resolving[key]
            await self.push(answer)

    def create_series(self, params: list[Any]) -> None:
        cs, chart = self._chart(params)
        series_id, turnaround, alias, resolution, bars = params[1:6]
        interval = resolution_of(resolution)
        if not isinstance(bars, int) or isinstance(bars, bool) or bars < 0:
            raise TypeError("bars")
        span = range_of(params[6] if len(params) > 6 else "", self.sim.clock())
        if not self._series_ok(cs, chart, series_id, turnaround, alias, interval):
            return
        assert interval is not None
        series = chart.series[series_id] = Series(series_id, turnaround, alias, interval,
                                                  extended=chart.extended.get(alias, False))
        self._load(cs, chart, series, bars, span)

    def modify_series(self, params: list[Any]) -> None:
        cs, chart = self._chart(params)
        series_id, turnaround, alias, resolution = params[1:5]
        interval = resolution_of(resolution)
        span = range_of(params[5], self.sim.clock())
        if not self._series_ok(cs, chart, series_id, turnaround, alias, interval):
            return
        assert interval is not None
        previous = chart.series.get(series_id)
        count = self.sim.max_bars_per_request if previous is None else 300
        series = chart.series[series_id] = Series(series_id, turnaround, alias, interval,
                                                  extended=chart.extended.get(alias, False))
        self._load(cs, chart, series, count, span)

    def remove_series(self, params: list[Any]) -> None:
        _, chart = self._chart(params)
        chart.series.pop(params[1], None)

    def request_more_data(self, params: list[Any]) -> None:
        cs, chart = self._chart(params)
        series, count = chart.series[params[1]], params[2]
        if not isinstance(count, int) or count < 0:
            raise TypeError("count")
        ticker = chart.aliases[series.alias]
        assert ticker is not None
        rows = self.sim.market.history(ticker, series.interval, series.extended)
        count = min(count, self.sim.max_bars_per_request)
        new_start = max(0, series.start - count)
        if self.sim.max_depth_bars is not None:
            new_start = max(new_start, len(rows) - self.sim.max_depth_bars)
        older = rows[new_start:series.start] if new_start < series.start else []
        series.start = min(series.start, max(new_start, 0))
        self.queue(self.stamped("series_loading", cs, series.series_id, series.turnaround))
        # Index policy: indexes count from the oldest delivered bar, so a prepend renumbers the window
        # and this update carries only the prepended bars, at indexes 0..k-1.
        self._queue_bars(cs, series, older, 0, first=False)
        self._complete(cs, series, ticker)

    def _series_ok(self, cs: str, chart: ChartSession, series_id: str, turnaround: str, alias: str,
                   interval: Resolution | None) -> bool:
        reason = None
        if alias not in chart.aliases or chart.aliases[alias] is None:
            reason = "resolve error"
        elif interval is None:
            reason = "custom_resolution"  # not for free plans
        elif self.sim.faults.series_error is not None:
            reason = self.sim.faults.series_error
        if reason is None:
            return True
        self._queue_loading(cs, series_id, turnaround, alias)
        self.queue(self.stamped("series_error", cs, series_id, turnaround, reason, NODE))
        return False

    def _queue_loading(self, cs: str, series_id: str, turnaround: str, alias: str) -> None:
        """`series_loading` first: before the `symbol_resolved`/`symbol_error` answering the same message."""
        loading = self.stamped("series_loading", cs, series_id, turnaround)
        held = self._resolving.pop((cs, alias), None)
        if held is not None:
            self.queue(loading)
            self.queue(held)
            return
        resolved = next((i for i, o in enumerate(self._batch) if o["m"] in ("symbol_resolved", "symbol_error")
                         and o["p"][0] == cs and o["p"][1] == alias), None)
        if resolved is None:
            self.queue(loading)
        else:
            self._batch.insert(resolved, loading)

    def _load(self, cs: str, chart: ChartSession, series: Series, count: int,
              span: tuple[int, int] | None = None) -> None:
        ticker = chart.aliases[series.alias]
        assert ticker is not None
        rows = self.sim.market.history(ticker, series.interval, series.extended)
        oldest = 0 if self.sim.max_depth_bars is None else max(0, len(rows) - self.sim.max_depth_bars)
        cap = min(max(count, 1) if span else count, self.sim.max_bars_per_request)
        end = len(rows) if span is None else bisect.bisect_right(rows, span[1], key=_time)
        first = max(oldest, end - cap)
        if span is not None:
            first = max(first, bisect.bisect_left(rows, span[0], key=_time))
        series.start = min(first, end)
        self._queue_loading(cs, series.series_id, series.turnaround, series.alias)
        self._queue_bars(cs, series, rows[series.start:end], 0, first=True)
        self._complete(cs, series, ticker)

    def _queue_bars(self, cs: str, series: Series, rows: list[list[float]], index: int,
                    *, first: bool) -> None:
        self.queue(self.stamped("timescale_update", cs, self._series_payload(series, rows, index, first),
                                self._timescale(rows, index)))

    def _as_sent(self, row: list[float]) -> list[float]:
        every = self.sim.faults.broken_rows_every
        if not every or int(row[0]) // 60 % every:
            return row
        time, open_, _, low, *rest = row
        return [time, open_, low - 1.0, low, *rest]  # its high below its low

    def _series_payload(self, series: Series, rows: list[list[float]], index: int,
                        first: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "s": [{"i": index + k, "v": self._as_sent(row)} for k, row in enumerate(rows)],
            "ns": {"d": "", "indexes": [] if first else "nochange"},
            "t": series.turnaround,
        }
        if first:
            body["node"] = "sim-charts-free-1-series-1"
        if rows:
            body["lbs"] = {"bar_close_time": series.interval.next_open(
                series.interval.align(int(rows[-1][0])))}
        return {series.series_id: body}

    @staticmethod
    def _timescale(rows: list[list[float]], index: int) -> dict[str, Any]:
        return {"index": index, "zoffset": 0, "changes": [r[0] for r in rows],
                "marks": [], "index_diff": []}

    def _complete(self, cs: str, series: Series, ticker: str) -> None:
        mode = self.sim.market.specs[ticker].update_mode
        self.queue(self.stamped("series_completed", cs, series.series_id, mode, series.turnaround,
                                {"rt_update_period": 5}))

    def live_updates(self, ticker: str,
                     touched: dict[tuple[Resolution, bool], tuple[int, bool]]) -> list[dict[str, Any]]:
        """`du` / `timescale_update` messages for this client's series on `ticker` after a tick."""
        out: list[dict[str, Any]] = []
        for cs, chart in self.charts.items():
            for series in chart.series.values():
                history = (series.interval, self.sim.market.effective_extended(ticker, series.extended))
                if chart.aliases.get(series.alias) != ticker or history not in touched:
                    continue
                position, is_new = touched[history]
                row = self.sim.market.history(ticker, series.interval, series.extended)[position]
                index = position - series.start
                payload = self._series_payload(series, [row], index, first=False)
                if is_new:
                    out.append(self.stamped("timescale_update", cs, payload, self._timescale([row], index)))
                else:
                    out.append({"m": "du", "p": [cs, payload]})
        return out

    # --- quote sessions ------------------------------------------------------------------------------

    def quote_create_session(self, params: list[Any]) -> None:
        self.quotes[str(params[0])] = []

    def quote_delete_session(self, params: list[Any]) -> None:
        self.quotes.pop(params[0], None)
        self.quote_fields.pop(params[0], None)

    def quote_set_fields(self, params: list[Any]) -> None:
        if params[0] not in self.quotes or not all(isinstance(f, str) for f in params[1:]):
            raise KeyError(params[0])
        self.quote_fields[params[0]] = frozenset(params[1:])

    def _fields(self, qs: str, values: dict[str, Any]) -> dict[str, Any]:
        asked = self.quote_fields.get(qs)
        return values if asked is None else {k: v for k, v in values.items() if k in asked}

    def quote_add_symbols(self, params: list[Any]) -> None:
        qs = params[0]
        names = self.quotes[qs]
        for name in params[1:]:
            if isinstance(name, dict):
                continue  # the {"flags": [...]} option
            if not isinstance(name, str):
                raise TypeError("symbol")
            if name not in names:
                names.append(name)
            ticker = self.sim.parse_symbol(name)
            if ticker is None or self.sim.market.spec(ticker) is None or \
                    ticker in self.sim.faults.unknown_symbols:
                names.remove(name)
                self.queue({"m": "qsd", "p": [qs, {"n": name, "s": "error", "v": {}}]})
                continue
            quote = dict(self.sim.market.quote(ticker))
            quote.pop("prev_close_price", None)
            self.queue({"m": "qsd", "p": [qs, {"n": name, "s": "ok", "v": self._fields(qs, quote)}]})
            self.queue({"m": "quote_completed", "p": [qs, name]})

    def quote_remove_symbols(self, params: list[Any]) -> None:
        names = self.quotes[params[0]]
        for name in params[1:]:
            if name in names:
                names.remove(name)

    def quote_fast_symbols(self, params: list[Any]) -> None:
        if params[0] not in self.quotes:
            raise KeyError(params[0])

    def quote_hibernate_all(self, params: list[Any]) -> None:
        if params[0] not in self.quotes:
            raise KeyError(params[0])

    def quote_updates(self, ticker: str, changed: dict[str, Any]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for qs, names in self.quotes.items():
            values = self._fields(qs, changed)
            for name in names:
                if values and self.sim.parse_symbol(name) == ticker:
                    out.append({"m": "qsd", "p": [qs, {"n": name, "s": "ok", "v": values}]})
        return out


def _time(row: list[float]) -> int:
    return int(row[0])


_HANDLERS = {
    name: getattr(ClientSession, name)
    for name in ("chart_create_session", "chart_delete_session", "switch_timezone", "resolve_symbol",
                 "create_series", "modify_series", "remove_series", "request_more_data",
                 "quote_create_session", "quote_delete_session", "quote_set_fields", "quote_add_symbols",
                 "quote_remove_symbols", "quote_fast_symbols", "quote_hibernate_all")
}
