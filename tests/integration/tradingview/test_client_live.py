"""Heartbeats, watchdog, reconnect + resubscribe, quote sessions, and the simulator's own behaviour."""

import asyncio
import time
from collections.abc import Callable

import aiohttp
import pytest

from simulators.tradingview import TradingViewSimulator
from simulators.tradingview.__main__ import parse_args, serve
from src.common.errors import SymbolNotFound
from src.domain.market_data import Interval, QuoteTick, Symbol
from src.providers.tradingview import TradingViewClient, TradingViewConfig
from src.providers.tradingview.framing import decode_frames
from src.providers.tradingview.messages import request_frame
from src.providers.tradingview.quotes import QuoteStream
from tests.fixtures.servers import free_port

pytestmark = pytest.mark.integration

BTC = Symbol("BINANCE", "BTCUSDT")
ETH = Symbol("BINANCE", "ETHUSDT")


async def until(predicate: Callable[[], bool], within: float = 3.0) -> None:
    async def poll() -> None:
        while not predicate():  # noqa: ASYNC110 - polling state owned by another component
            await asyncio.sleep(0.01)
    await asyncio.wait_for(poll(), within)


async def wait_for_listener(port: int, within: float = 5.0) -> None:
    async def poll() -> None:
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.02)
            else:
                writer.close()
                return
    await asyncio.wait_for(poll(), within)


async def next_tick(stream: QuoteStream, within: float = 2.0) -> QuoteTick:
    return await asyncio.wait_for(stream.__anext__(), within)


async def test_heartbeats_are_echoed_and_keep_the_connection(tv_simulator: TradingViewSimulator,
                                                             tv_config: TradingViewConfig) -> None:
    tv_simulator.faults.close_after_unanswered = 2
    async with TradingViewClient(tv_config) as tv:
        await tv.start()
        await until(lambda: tv_simulator.stats["heartbeat_echoes"] >= 4)
        assert tv.connected and tv.reconnect_count == 0
        assert tv.connection.heartbeats_echoed >= 4


async def test_simulator_closes_clients_that_stop_echoing(tv_simulator: TradingViewSimulator) -> None:
    tv_simulator.faults.close_after_unanswered = 2
    async with aiohttp.ClientSession() as http, http.ws_connect(tv_simulator.ws_url) as ws:
        hello = decode_frames((await ws.receive(timeout=2)).data)
        assert '"session_id"' in hello[0]
        started = time.monotonic()
        while True:
            msg = await ws.receive(timeout=3)
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break
            assert decode_frames(msg.data)[0].startswith("~h~")  # heartbeats come standalone
        assert 0.4 <= time.monotonic() - started < 2.0


async def test_watchdog_reconnects_a_silent_connection_and_resubscribes(
        tv_simulator: TradingViewSimulator, tv_config: TradingViewConfig) -> None:
    async with TradingViewClient(tv_config) as tv:
        await tv.subscribe([BTC])
        tv_simulator.faults.heartbeats = False  # silence: the 2 s watchdog must notice
        await until(lambda: tv.reconnect_count >= 1, within=5)
        tv_simulator.faults.heartbeats = True
        await until(lambda: tv.connected)
        await until(lambda: tv_simulator.stats["request:quote_add_symbols"] >= 2)
        stream = tv.quote_stream()
        await until(lambda: bool(tv_simulator.clients) and all(c.quotes for c in tv_simulator.clients))
        await tv_simulator.push_tick(BTC.ticker, 65_000.0, 100.0, 1_800_000_000)
        tick = await next_tick(stream)
        assert (tick.symbol, tick.price, tick.cumulative_volume) == (BTC, 65_000.0, 100.0)


async def test_dropped_connection_reconnects_restores_token_sessions_and_subscriptions(
        tv_simulator: TradingViewSimulator, tv_config: TradingViewConfig) -> None:
    async with TradingViewClient(tv_config) as tv:
        await tv.subscribe([BTC, ETH])
        await tv_simulator.drop_all_connections()
        await until(lambda: tv.reconnect_count == 1 and tv.connected)
        await until(lambda: tv_simulator.stats["request:quote_add_symbols"] >= 2)
        assert tv_simulator.stats["request:set_auth_token"] == 2
        assert tv_simulator.stats["connections"] == 2
        restored = [p for m, p in tv_simulator.received if m == "quote_add_symbols"][-1]
        assert set(restored[1:]) == {BTC.ticker, ETH.ticker}
        stream = tv.quote_stream()
        await until(lambda: all(c.quotes for c in tv_simulator.clients))
        await tv_simulator.push_tick(ETH.ticker, 3_100.0, 5.0, 1_800_000_000)
        assert (await next_tick(stream)).symbol == ETH
        assert len(await tv.fetch_bars(BTC, Interval.M1, 50)) == 50


async def test_quotes_merge_partial_updates_and_track_session_volume(
        tv_simulator: TradingViewSimulator, tv_config: TradingViewConfig) -> None:
    async with TradingViewClient(tv_config) as tv:
        stream = tv.quote_stream()
        await tv.subscribe([BTC])
        snapshot = await next_tick(stream)
        assert snapshot.symbol == BTC and snapshot.bid is not None and snapshot.change is not None
        await tv_simulator.push_tick(BTC.ticker, 61_000.0, 10.0, 1_800_000_000)
        first = await next_tick(stream)
        await tv_simulator.push_tick(BTC.ticker, 61_000.0, 12.5, 1_800_000_000)  # volume-only delta
        second = await next_tick(stream)
        assert (first.price, first.cumulative_volume, first.time) == (61_000.0, 10.0, 1_800_000_000.0)
        assert (second.price, second.cumulative_volume, second.bid) == (61_000.0, 12.5, first.bid)
        tv_simulator.new_session(BTC.ticker)
        await tv_simulator.push_tick(BTC.ticker, 61_001.0, 0.7, 1_800_000_060)
        assert (await next_tick(stream)).cumulative_volume == 0.7  # a new session: volume drops
        assert tv.latest_quote(BTC) is not None


async def test_simulator_sends_only_changed_fields_after_the_snapshot(
        tv_simulator: TradingViewSimulator) -> None:
    async with aiohttp.ClientSession() as http, http.ws_connect(tv_simulator.ws_url) as ws:
        await ws.send_str(request_frame("set_auth_token", "unauthorized_user_token")
                          + request_frame("quote_create_session", "qs_test")
                          + request_frame("quote_add_symbols", "qs_test", BTC.ticker, "BINANCE:NOPE"))
        seen: list[str] = []
        while not any("quote_completed" in p for p in seen) or not any('"error"' in p for p in seen):
            msg = await ws.receive(timeout=2)
            seen.extend(decode_frames(msg.data))
        await tv_simulator.push_tick(BTC.ticker, 1.0, 3.0, 1_800_000_000)
        await tv_simulator.push_tick(BTC.ticker, 1.0, 4.0, 1_800_000_000)
        deltas: list[str] = []
        while len(deltas) < 2:
            frames = decode_frames((await ws.receive(timeout=2)).data)
            deltas.extend(f for f in frames if '"qsd"' in f)
        assert deltas[1] == '{"m":"qsd","p":["qs_test",{"n":"BINANCE:BTCUSDT","s":"ok","v":{"volume":4.0}}]}'


async def test_unknown_quote_symbol_raises_and_others_stay(tv_config: TradingViewConfig) -> None:
    async with TradingViewClient(tv_config) as tv:
        with pytest.raises(SymbolNotFound, match="BINANCE:NOPE"):
            await tv.subscribe([BTC, "BINANCE:NOPE"])
        assert tv.subscriptions == [BTC]


async def test_unsubscribe_stops_ticks(tv_simulator: TradingViewSimulator,
                                       tv_config: TradingViewConfig) -> None:
    received: list[QuoteTick] = []

    async def on_quote(tick: QuoteTick) -> None:
        received.append(tick)

    async with TradingViewClient(tv_config) as tv:
        tv.add_quote_callback(on_quote)
        await tv.subscribe([BTC, ETH])
        await until(lambda: len(received) == 2)  # the two snapshots
        await tv.unsubscribe([BTC])
        await until(lambda: tv_simulator.stats["request:quote_remove_symbols"] == 1)
        await tv_simulator.push_tick(BTC.ticker, 1.0, 1.0, 1_800_000_000)
        await tv_simulator.push_tick(ETH.ticker, 2.0, 1.0, 1_800_000_000)
        await until(lambda: len(received) == 3)
        await asyncio.sleep(0.05)
        assert [t.symbol for t in received[2:]] == [ETH]
        assert tv.subscriptions == [ETH]


async def test_live_ticks_update_the_forming_bar_and_open_new_bars(
        tv_simulator: TradingViewSimulator) -> None:
    anchor = int(tv_simulator.market.anchor)
    forming = Interval.M1.align(anchor)
    async with aiohttp.ClientSession() as http, http.ws_connect(tv_simulator.ws_url) as ws:
        await ws.send_str(request_frame("set_auth_token", "unauthorized_user_token")
                          + request_frame("chart_create_session", "cs_test", "")
                          + request_frame("resolve_symbol", "cs_test", "sym", BTC.ticker)
                          + request_frame("create_series", "cs_test", "sds_1", "s1", "sym", "1", 10, ""))
        frames: list[str] = []
        while not any("series_completed" in f for f in frames):
            frames.extend(decode_frames((await ws.receive(timeout=2)).data))
        methods = [f.split('"m":"')[1].split('"')[0] for f in frames if '"m":' in f]
        assert methods[-4:] == ["series_loading", "symbol_resolved", "timescale_update", "series_completed"]
        await tv_simulator.push_tick(BTC.ticker, 70_000.0, 1.0, forming + 10)
        await tv_simulator.push_tick(BTC.ticker, 70_100.0, 2.0, forming + 70)
        live: list[str] = []
        while len(live) < 2:
            live.extend(f for f in decode_frames((await ws.receive(timeout=2)).data)
                        if '"du"' in f or '"timescale_update"' in f)
        assert live[0].startswith('{"m":"du"') and '"i":9' in live[0] and "70000.0" in live[0]
        assert live[1].startswith('{"m":"timescale_update"') and '"i":10' in live[1]


async def test_simulator_validates_arity_and_rejects_bad_tokens(tv_simulator: TradingViewSimulator) -> None:
    async with aiohttp.ClientSession() as http, http.ws_connect(tv_simulator.ws_url) as ws:
        await ws.send_str(request_frame("resolve_symbol", "cs_x"))  # before the hello was read: tolerated
        frames: list[str] = []
        while not any("critical_error" in f for f in frames):
            frames.extend(decode_frames((await ws.receive(timeout=2)).data))
        assert '"session_id"' in frames[0]
        assert any('"invalid parameters"' in f and "resolve_symbol" in f for f in frames)
        await ws.send_str(request_frame("set_auth_token", "forged"))
        rest: list[str] = []
        while True:
            msg = await ws.receive(timeout=2)
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break
            rest.extend(decode_frames(msg.data))
        assert '{"m":"protocol_error","p":["bad auth token"]}' in rest


async def test_tick_rate_generates_ticks(tv_simulator: TradingViewSimulator,
                                         tv_config: TradingViewConfig) -> None:
    async with TradingViewClient(tv_config) as tv:
        stream = tv.quote_stream()
        await tv.subscribe([BTC])
        await next_tick(stream)  # snapshot
        tv_simulator.faults.tick_rate = 50
        tick = await next_tick(stream)
        tv_simulator.faults.tick_rate = 0
        assert tick.symbol == BTC


async def test_simulator_entry_point_serves_clients() -> None:
    port = free_port()
    args = parse_args(["--port", str(port), "--tick-rate", "0", "--history-bars", "500"])
    stop = asyncio.Event()
    server = asyncio.create_task(serve(args, stop))
    try:
        config = TradingViewConfig(ws_url=f"ws://127.0.0.1:{port}/socket.io/websocket", rate_limit=None,
                                   request_timeout=3, connect_timeout=1, backoff_base=0.05, backoff_cap=0.1)
        await wait_for_listener(port)
        async with TradingViewClient(config) as tv:
            assert len(await tv.fetch_bars(BTC, Interval.D1, 30)) == 30
    finally:
        stop.set()
        await asyncio.wait_for(server, 5)
