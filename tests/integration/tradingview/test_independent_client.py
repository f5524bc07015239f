"""An independent TradingView client, written here from the protocol reference in the style of tvdatafeed
(websocket-client, one blocking socket, the request sequence tvdatafeed sends, a read loop that echoes
heartbeats and stops on `series_completed`), must behave against the simulator as against the real server.
It shares no code with PocketQuant's client. It runs in a thread: the simulator lives on the test's loop."""

import asyncio
import json
import random
import re
import string
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from websocket import WebSocketConnectionClosedException, WebSocketTimeoutException, create_connection

from simulators.tradingview import TradingViewSimulator
from src.domain.market_data import Interval

pytestmark = pytest.mark.integration

FRAME = re.compile(r"~m~(\d+)~m~")
HEARTBEAT = re.compile(r"^~h~\d+$")
TVDATAFEED_FIELDS = ["ch", "chp", "current_session", "description", "local_description", "language", "exchange",
                     "fractional", "is_tradable", "lp", "lp_time", "minmov", "minmove2", "original_name",
                     "pricescale", "pro_name", "short_name", "type", "update_mode", "volume", "currency_code",
                     "rchp", "rtc"]
GIVE_UP = ("symbol_error", "series_error", "critical_error", "protocol_error")


class GaveUp(Exception):
    pass


def session(prefix: str) -> str:
    return prefix + "_" + "".join(random.choice(string.ascii_lowercase) for _ in range(12))


def frames(text: str) -> list[str]:
    """Every payload of a message (several frames may share one), sliced by their length prefix."""
    out, at = [], 0
    while (match := FRAME.match(text, at)) is not None:
        start = match.end()
        out.append(text[start:start + int(match[1])])
        at = start + int(match[1])
    return out


@dataclass
class Client:
    url: str
    echo: bool = True
    timeout_s: float = 5.0
    messages: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ws = create_connection(self.url, timeout=self.timeout_s)  # websocket-client sends its own Origin
        self.cs, self.qs = session("cs"), session("qs")

    def send(self, method: str, *params: Any) -> None:
        payload = json.dumps({"m": method, "p": list(params)}, separators=(",", ":"))
        self.ws.send(f"~m~{len(payload)}~m~{payload}")

    def read_until(self, *methods: str, count: int = 1) -> list[dict[str, Any]]:
        """Read (echoing heartbeats) until `count` messages named in `methods` arrived; give up on errors."""
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + self.timeout_s
        while len([m for m in seen if m.get("m") in methods]) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {methods} within {self.timeout_s}s")
            for payload in frames(self.ws.recv()):
                if HEARTBEAT.match(payload):
                    if self.echo:
                        self.ws.send(f"~m~{len(payload)}~m~{payload}")
                    continue
                seen.append(json.loads(payload))
                self.messages.append(seen[-1])
            if failed := [m["m"] for m in seen if m.get("m") in GIVE_UP]:
                raise GaveUp(failed[0])
        return seen

    def get_hist(self, symbol: str, resolution: str, n_bars: int, *extra: Any) -> list[list[float]]:
        """tvdatafeed's sequence (protocol reference §4.2), optionally with a 7th create_series parameter."""
        self.send("set_auth_token", "unauthorized_user_token")
        self.send("chart_create_session", self.cs, "")
        self.send("quote_create_session", self.qs)
        self.send("quote_set_fields", self.qs, *TVDATAFEED_FIELDS)
        self.send("quote_add_symbols", self.qs, symbol, {"flags": ["force_permission"]})
        self.send("quote_fast_symbols", self.qs, symbol)
        spec = '={"symbol":"' + symbol + '","adjustment":"splits","session":"regular"}'
        self.send("resolve_symbol", self.cs, "symbol_1", spec)
        self.send("create_series", self.cs, "s1", "s1", "symbol_1", resolution, n_bars, *extra)
        self.send("switch_timezone", self.cs, "exchange")
        return bars(self.read_until("series_completed"))

    def close(self) -> None:
        self.ws.close()


def bars(messages: list[dict[str, Any]]) -> list[list[float]]:
    by_time = {}
    for message in messages:
        if message.get("m") in ("timescale_update", "du"):
            for row in message["p"][1].get("s1", {}).get("s", []):
                by_time[row["v"][0]] = row["v"]
    return [by_time[t] for t in sorted(by_time)]


@pytest.fixture
async def client(tv_simulator: TradingViewSimulator):
    made: list[Client] = []

    async def make(**options: Any) -> Client:
        made.append(await asyncio.to_thread(Client, tv_simulator.ws_url, **options))  # the loop serves it
        return made[-1]

    yield make
    for c in made:
        await asyncio.to_thread(c.close)  # the close handshake needs the simulator's loop running


async def test_history_arrives_as_the_simulator_holds_it(client, tv_simulator):
    got = await asyncio.to_thread((await client()).get_hist, "BINANCE:BTCUSDT", "1", 300)
    assert got == tv_simulator.market.history("BINANCE:BTCUSDT", Interval.M1)[-300:]


async def test_an_unknown_symbol_is_given_up_on_after_series_loading(client):
    c = await client()
    started = time.monotonic()
    with pytest.raises(GaveUp, match="symbol_error"):
        await asyncio.to_thread(c.get_hist, "BINANCE:NOPE", "60", 10)
    assert time.monotonic() - started < 2.0
    methods = [m["m"] for m in c.messages if m.get("m") not in (None, "qsd", "quote_completed")]
    assert methods == ["series_loading", "symbol_error", "series_error"]  # and never series_completed
    assert c.messages[-1]["p"][3] == "resolve error"


async def test_a_custom_resolution_is_refused_after_series_loading(client):
    c = await client()
    with pytest.raises(GaveUp, match="series_error"):
        await asyncio.to_thread(c.get_hist, "BINANCE:BTCUSDT", "7", 10)
    series = [m for m in c.messages if m.get("m", "").startswith("series_")]
    assert [m["m"] for m in series] == ["series_loading", "series_error"] and series[1]["p"][3] == "custom_resolution"


async def test_a_range_as_seventh_parameter_returns_the_bars_in_it(client, tv_simulator):
    rows = tv_simulator.market.history("BINANCE:BTCUSDT", Interval.M5)
    start, end = int(rows[-900][0]), int(rows[-700][0])
    got = await asyncio.to_thread((await client()).get_hist, "BINANCE:BTCUSDT", "5", 5000, f"r,{start}:{end}")
    assert got == rows[-900:-699]


async def test_a_range_by_modify_series_completes_a_second_time_like_tvkit_sees(client, tv_simulator):
    c = await client()
    await asyncio.to_thread(c.get_hist, "BINANCE:BTCUSDT", "60", 100)
    rows = tv_simulator.market.history("BINANCE:BTCUSDT", Interval.H1)
    start, end = int(rows[-50][0]), int(rows[-40][0])
    c.send("modify_series", c.cs, "s1", "s2", "symbol_1", "60", f"r,{start}:{end}")
    second = await asyncio.to_thread(c.read_until, "series_completed")
    assert bars(second) == rows[-50:-39]


@pytest.mark.parametrize("months", [3, 6, 12])
async def test_quarterly_half_yearly_and_yearly_bars_aggregate_the_months(client, tv_simulator, months):
    got = await asyncio.to_thread((await client()).get_hist, "NASDAQ:AAPL", f"{months}M", 20)
    monthly = tv_simulator.market.history("NASDAQ:AAPL", Interval.MN1)
    newest = got[-1]
    inside = [r for r in monthly if r[0] >= newest[0]]
    assert len(got) == 20 and 1 <= len(inside) <= months
    assert newest[1:] == [inside[0][1], max(r[2] for r in inside), min(r[3] for r in inside), inside[-1][4],
                          round(sum(r[5] for r in inside), 8)]


async def test_paging_with_request_more_data(client, tv_simulator):
    c = await client()
    first = await asyncio.to_thread(c.get_hist, "BINANCE:ETHUSDT", "15", 1000)
    c.send("request_more_data", c.cs, "s1", 500)
    older = bars(await asyncio.to_thread(c.read_until, "series_completed"))
    rows = tv_simulator.market.history("BINANCE:ETHUSDT", Interval.M15)
    assert first == rows[-1000:] and older == rows[-1500:-1000]


async def test_a_delayed_symbol_declares_its_delay_and_trades_behind_the_clock(client):
    c = await client()
    got = await asyncio.to_thread(c.get_hist, "HOSE:VCB", "1", 5)
    resolved = next(m for m in c.messages if m.get("m") == "symbol_resolved")["p"][2]
    completed = next(m for m in c.messages if m.get("m") == "series_completed")["p"]
    quote = next(m for m in c.messages if m.get("m") == "qsd")["p"][1]["v"]
    assert resolved["delay"] == 900 and resolved["full_name"] == "HOSE_DLY:VCB" and resolved["pro_name"] == "HOSE:VCB"
    assert completed[2] == "delayed_streaming_900" and quote["update_mode"] == "delayed_streaming_900"
    assert time.time() - 900 - 120 <= got[-1][0] <= time.time() - 900


async def test_quote_fields_are_the_ones_asked_for(client, tv_simulator):
    c = await client()
    await asyncio.to_thread(c.get_hist, "BINANCE:BTCUSDT", "1", 1)
    if not any(m.get("m") == "quote_completed" for m in c.messages):
        await asyncio.to_thread(c.read_until, "quote_completed")
    snapshot = next(m for m in c.messages if m.get("m") == "qsd")["p"][1]["v"]
    assert set(snapshot) <= set(TVDATAFEED_FIELDS) and {"lp", "lp_time", "volume", "update_mode"} <= set(snapshot)
    assert "bid" not in snapshot  # not asked for by tvdatafeed
    await tv_simulator.push_tick("BINANCE:BTCUSDT", 61_000.0, 12.0)
    delta = (await asyncio.to_thread(c.read_until, "qsd"))[-1]["p"][1]["v"]
    assert set(delta) <= set(TVDATAFEED_FIELDS) and delta["lp"] == 61_000.0


def listen(c: Client, seconds: float) -> str:
    """Read for `seconds`, echoing heartbeats if `c.echo`; "dropped" when the server closed the socket."""
    deadline = time.monotonic() + seconds
    try:
        while (left := deadline - time.monotonic()) > 0:
            c.ws.settimeout(left)
            try:
                text = c.ws.recv()
            except WebSocketTimeoutException:
                break
            if not text:
                return "dropped"
            for payload in frames(text):
                if HEARTBEAT.match(payload) and c.echo:
                    c.ws.send(f"~m~{len(payload)}~m~{payload}")
    except (WebSocketConnectionClosedException, ConnectionError):
        return "dropped"
    return "connected"


async def test_a_client_that_echoes_heartbeats_stays_and_a_silent_one_is_dropped(client, tv_simulator):
    listening, silent = await client(), await client(echo=False)
    for c in (listening, silent):
        c.send("set_auth_token", "unauthorized_user_token")
    limit = tv_simulator.faults.close_after_unanswered
    assert limit  # on by default: the real server drops clients that stop answering
    seconds = tv_simulator.heartbeat_interval * (limit + 3)
    results = await asyncio.gather(asyncio.to_thread(listen, listening, seconds),
                                   asyncio.to_thread(listen, silent, seconds))
    assert results == ["connected", "dropped"]
