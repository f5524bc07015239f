"""TradingViewClient against the simulator over real sockets: history, paging, symbols, errors."""

import asyncio
import dataclasses
import time
from collections.abc import Callable

import pytest

from simulators.tradingview import TradingViewSimulator
from src.common.calendars import metadata_of
from src.common.errors import SymbolNotFound, UpstreamRejected, UpstreamUnavailable
from src.domain.market_data import Instrument, Interval, Symbol
from src.domain.market_data.bar_opens import misplaced
from src.infrastructure.timezones import time_zone_rules
from src.providers.tradingview import TradingViewClient, TradingViewConfig

pytestmark = pytest.mark.integration

BTC = Symbol("BINANCE", "BTCUSDT")
AAPL = Symbol("NASDAQ", "AAPL")
SPX = Symbol("SP", "SPX")


@pytest.mark.parametrize("interval", list(Interval))
async def test_history_for_every_interval_keeps_the_session_stamps_sorted_and_unique(
        tv_config: TradingViewConfig, tv_simulator: TradingViewSimulator, interval: Interval) -> None:
    async with TradingViewClient(tv_config) as tv:
        bars = await tv.fetch_bars(AAPL, interval, 300)
        info = await tv.resolve_symbol(AAPL)
    assert len(bars) == 300
    times = [b.time for b in bars]
    assert times == [int(r[0]) for r in tv_simulator.market.history(AAPL.ticker, interval)[-300:]]
    assert times == sorted(set(times)) and all(b.interval is interval for b in bars)
    calendar = metadata_of(Instrument("tradingview", AAPL), info, 0).regular.calendar(
        time_zone_rules(info.timezone, 1990, 2030))
    assert not misplaced(calendar, interval, times).any()  # bar opens of the symbol's own calendar


async def test_more_than_one_request_worth_is_paged_in(tv_config: TradingViewConfig,
                                                       tv_simulator: TradingViewSimulator) -> None:
    async with TradingViewClient(tv_config) as tv:
        bars = await tv.fetch_bars(BTC, Interval.M1, 11_000)
    assert len(bars) == 11_000
    assert [b.time for b in bars] == list(range(bars[0].time, bars[-1].time + 60, 60))
    assert tv_simulator.stats["request:request_more_data"] == 2


async def test_newest_bars_match_the_simulator_history(tv_config: TradingViewConfig,
                                                       tv_simulator: TradingViewSimulator) -> None:
    async with TradingViewClient(tv_config) as tv:
        bars = await tv.fetch_bars(BTC, Interval.H1, 10)
    rows = tv_simulator.market.history(BTC.ticker, Interval.H1)[-10:]
    assert [(b.time, b.open, b.close, b.volume) for b in bars] == [
        (int(r[0]), r[1], r[4], r[5]) for r in rows]


async def test_a_range_is_served_exactly_as_the_simulator_holds_it(tv_config: TradingViewConfig,
                                                                    tv_simulator: TradingViewSimulator) -> None:
    rows = tv_simulator.market.history(BTC.ticker, Interval.M1)
    start, end = int(rows[-9_000][0]), int(rows[-8_000][0])  # two pages back from the newest bar
    async with TradingViewClient(tv_config) as tv:
        bars = await tv.fetch_range(BTC, Interval.M1, start, end)
        empty = await tv.fetch_range(BTC, Interval.M1, end, start)
    expected = [r for r in rows if start <= int(r[0]) <= end]
    assert [(b.time, b.open, b.high, b.low, b.close, b.volume) for b in bars] == [
        (int(r[0]), r[1], r[2], r[3], r[4], r[5]) for r in expected]
    assert len(bars) == 1_001 and empty == []


async def test_a_far_range_costs_range_requests_not_pages(tv_config: TradingViewConfig,
                                                         tv_simulator: TradingViewSimulator) -> None:
    rows = tv_simulator.market.history(BTC.ticker, Interval.M1)
    start, end = int(rows[-11_500][0]), int(rows[-11_000][0])  # beyond two pages back
    async with TradingViewClient(tv_config) as tv:
        bars = await tv.fetch_range(BTC, Interval.M1, start, end)
    assert [b.time for b in bars] == [int(r[0]) for r in rows[-11_500:-10_999]]
    series = [p for m, p in tv_simulator.received if m == "create_series"]
    assert [p[6] for p in series] == [f"r,{start}:{end + 59}"]
    assert tv_simulator.stats["request:request_more_data"] == 0


async def test_a_long_range_is_cut_into_pieces_of_one_page(tv_config: TradingViewConfig,
                                                           tv_simulator: TradingViewSimulator) -> None:
    rows = tv_simulator.market.history(BTC.ticker, Interval.M1)
    start, end = int(rows[-11_000][0]), int(rows[-1][0])
    async with TradingViewClient(tv_config) as tv:
        bars = await tv.fetch_range(BTC, Interval.M1, start, end)
    assert [b.time for b in bars] == [int(r[0]) for r in rows[-11_000:]]
    assert tv_simulator.stats["request:create_series"] == 3  # 5,000 + 5,000 + 1,000 periods


@pytest.mark.parametrize("interval", [Interval.M45, Interval.H1, Interval.H4, Interval.D1, Interval.W1, Interval.MN1])
async def test_a_range_between_session_stamps_keeps_its_first_and_last_bars(
        tv_config: TradingViewConfig, tv_simulator: TradingViewSimulator, interval: Interval) -> None:
    rows = tv_simulator.market.history(AAPL.ticker, interval)  # 09:30 New York stamps: off the UTC grid
    stamps = [int(r[0]) for r in rows[-30:-20]]
    async with TradingViewClient(tv_config) as tv:
        bars = await tv.fetch_range(AAPL, interval, stamps[0], stamps[-1])
    assert [b.time for b in bars] == stamps


async def test_a_range_over_holes_returns_what_the_source_has(tv_config: TradingViewConfig,
                                                              tv_simulator: TradingViewSimulator) -> None:
    rows = tv_simulator.market.history(BTC.ticker, Interval.M5)
    first, last = int(rows[-300][0]), int(rows[-250][0])
    tv_simulator.market.remove_bars(BTC.ticker, Interval.M5, first, last)
    async with TradingViewClient(tv_config) as tv:
        bars = await tv.fetch_range(BTC, Interval.M5, first - 600, last + 600)
        newest = await tv.fetch_bars(BTC, Interval.M5, 400)
    assert [b.time for b in bars] == [first - 600, first - 300, last + 300, last + 600]
    assert len(newest) == 400 and not [b for b in newest if first <= b.time <= last]


async def test_without_range_requests_a_range_pages_back(tv_config: TradingViewConfig,
                                                         tv_simulator: TradingViewSimulator) -> None:
    rows = tv_simulator.market.history(BTC.ticker, Interval.M1)
    start, end = int(rows[-9_000][0]), int(rows[-8_000][0])
    async with TradingViewClient(dataclasses.replace(tv_config, range_requests=False)) as tv:
        bars = await tv.fetch_range(BTC, Interval.M1, start, end)
    assert len(bars) == 1_001 and tv_simulator.stats["request:request_more_data"] == 1


async def test_a_delayed_symbol_ends_its_history_its_delay_before_now(tv_config: TradingViewConfig) -> None:
    vcb = Symbol("HOSE", "VCB")
    async with TradingViewClient(tv_config) as tv:
        info = await tv.resolve_symbol(vcb)
        bars = await tv.fetch_bars(vcb, Interval.M1, 10)
    assert info.extra["delay"] == 900 and info.extra["full_name"] == "HOSE_DLY:VCB"
    assert time.time() - 900 - 120 <= bars[-1].time <= time.time() - 900


async def test_fewer_bars_than_asked_when_history_is_short(tv_config: TradingViewConfig) -> None:
    async with TradingViewClient(tv_config) as tv:
        bars = await tv.fetch_bars(BTC, Interval.MN1, 5_000)
    assert 0 < len(bars) < 5_000  # monthly history starts in 1990
    assert bars[0].time >= 631_152_000


async def test_paging_stops_at_the_depth_window(tv_simulator: TradingViewSimulator,
                                                tv_config: TradingViewConfig) -> None:
    tv_simulator.max_depth_bars = 7_000
    async with TradingViewClient(tv_config) as tv:
        bars = await tv.fetch_bars(BTC, Interval.M5, 10_000)
    assert len(bars) == 7_000


async def test_series_without_volume_have_zero_volume(tv_config: TradingViewConfig) -> None:
    async with TradingViewClient(tv_config) as tv:
        bars = await tv.fetch_bars(SPX, Interval.D1, 50)
    assert len(bars) == 50 and all(b.volume == 0.0 for b in bars)


async def test_unknown_symbol_raises_symbol_not_found_fast(tv_config: TradingViewConfig) -> None:
    async with TradingViewClient(tv_config) as tv:
        started = time.monotonic()
        with pytest.raises(SymbolNotFound):
            await tv.fetch_bars(Symbol("NOWHERE", "NOPE"), Interval.D1, 10)
        with pytest.raises(SymbolNotFound):
            await tv.resolve_symbol(Symbol("NOWHERE", "NOPE"))
        assert time.monotonic() - started < 1.0
        assert len(await tv.fetch_bars(BTC, Interval.D1, 5)) == 5  # the connection is still usable


async def test_injected_unknown_symbol(tv_simulator: TradingViewSimulator, tv_config: TradingViewConfig) -> None:
    tv_simulator.faults.unknown_symbols.add(BTC.ticker)
    async with TradingViewClient(tv_config) as tv:
        with pytest.raises(SymbolNotFound):
            await tv.fetch_bars(BTC, Interval.M1, 10)


async def test_resolve_symbol_returns_metadata(tv_config: TradingViewConfig) -> None:
    async with TradingViewClient(tv_config) as tv:
        info = await tv.resolve_symbol(AAPL)
    assert (info.symbol, info.description, info.type, info.currency, info.timezone, info.session) == (
        AAPL, "Apple Inc.", "stock", "USD", "America/New_York", "0930-1600")
    assert info.extra["pricescale"] == 100


async def test_series_error_is_upstream_rejected(tv_simulator: TradingViewSimulator,
                                                 tv_config: TradingViewConfig) -> None:
    tv_simulator.faults.series_error = "custom_resolution"
    async with TradingViewClient(tv_config) as tv:
        with pytest.raises(UpstreamRejected, match="custom_resolution"):
            await tv.fetch_bars(BTC, Interval.M1, 10)


async def test_critical_error_is_upstream_rejected(tv_simulator: TradingViewSimulator,
                                                   tv_config: TradingViewConfig) -> None:
    tv_simulator.faults.critical_error_methods.add("create_series")
    async with TradingViewClient(tv_config) as tv:
        started = time.monotonic()
        with pytest.raises(UpstreamRejected, match="invalid parameters"):
            await tv.fetch_bars(BTC, Interval.M1, 10)
        assert time.monotonic() - started < 1.0


async def test_protocol_error_is_upstream_rejected(tv_simulator: TradingViewSimulator,
                                                   tv_config: TradingViewConfig) -> None:
    async with TradingViewClient(tv_config) as tv:
        await tv.start()
        tv_simulator.faults.protocol_error = "banned by ip"
        with pytest.raises(UpstreamRejected, match="banned by ip"):
            await tv.fetch_bars(BTC, Interval.M1, 10)


async def test_bad_token_is_upstream_rejected(tv_simulator: TradingViewSimulator,
                                              tv_config: TradingViewConfig) -> None:
    config = dataclasses.replace(tv_config, username="trader", password="s3cret")
    async with TradingViewClient(config) as tv:
        tv._token = "expired.jwt.token"  # as if the kept token had been invalidated upstream
        with pytest.raises(UpstreamRejected):
            await tv.fetch_bars(BTC, Interval.M1, 10)
        # The rejected token is dropped; the next request logs in again and succeeds.
        assert len(await tv.fetch_bars(BTC, Interval.M1, 10)) == 10
    assert tv_simulator.stats["signin_calls"] == 1


async def test_slow_upstream_times_out_as_unavailable(tv_simulator: TradingViewSimulator,
                                                      tv_config: TradingViewConfig) -> None:
    config = dataclasses.replace(tv_config, request_timeout=0.3)
    async with TradingViewClient(config) as tv:
        await tv.start()
        tv_simulator.faults.delay = 0.6
        started = time.monotonic()
        with pytest.raises(UpstreamUnavailable):
            await tv.fetch_bars(BTC, Interval.M1, 10)
        assert time.monotonic() - started < 0.55


async def test_unreachable_upstream_is_unavailable_quickly() -> None:
    config = TradingViewConfig(ws_url="ws://127.0.0.1:9/socket.io/websocket", connect_timeout=0.5,
                               request_timeout=1.0, backoff_base=0.05, backoff_cap=0.1, rate_limit=None)
    async with TradingViewClient(config) as tv:
        with pytest.raises(UpstreamUnavailable):
            await tv.fetch_bars(BTC, Interval.M1, 10)


async def test_rejected_upgrade_is_unavailable(tv_simulator: TradingViewSimulator,
                                               tv_config: TradingViewConfig) -> None:
    tv_simulator.faults.reject_upgrade = 429
    async with TradingViewClient(tv_config) as tv:
        with pytest.raises(UpstreamUnavailable):
            await tv.fetch_bars(BTC, Interval.M1, 10)


async def test_many_concurrent_fetches_share_one_connection(tv_simulator: TradingViewSimulator,
                                                            tv_config: TradingViewConfig) -> None:
    tickers = [BTC, AAPL, SPX, Symbol("BINANCE", "ETHUSDT")]
    async with TradingViewClient(tv_config) as tv:
        results = await asyncio.gather(*(tv.fetch_bars(s, iv, 200) for s in tickers
                                         for iv in (Interval.M1, Interval.H1, Interval.D1)))
    assert [len(r) for r in results] == [200] * 12
    assert tv_simulator.stats["connections"] == 1


async def test_frames_one_per_message_are_handled(tv_simulator: TradingViewSimulator,
                                                  tv_config: TradingViewConfig) -> None:
    tv_simulator.faults.pack_frames = False
    async with TradingViewClient(tv_config) as tv:
        assert len(await tv.fetch_bars(BTC, Interval.M15, 100)) == 100


async def test_search_strips_highlight(tv_config: TradingViewConfig,
                                       tv_simulator: TradingViewSimulator) -> None:
    async with TradingViewClient(tv_config) as tv:
        matches = await tv.search_symbols("aapl")
        by_exchange = await tv.search_symbols("BINANCE:USDT")
    assert [m.symbol for m in matches] == [AAPL]
    assert matches[0].description == "Apple Inc." and matches[0].country == "US"
    assert {m.symbol.ticker for m in by_exchange} == {"BINANCE:BTCUSDT", "BINANCE:ETHUSDT"}
    assert tv_simulator.stats["search_calls"] == 2


async def test_login_once_and_reuse_the_token(tv_simulator: TradingViewSimulator,
                                              tv_config: TradingViewConfig) -> None:
    config = dataclasses.replace(tv_config, username="trader", password="s3cret")
    async with TradingViewClient(config) as tv:
        await asyncio.gather(*(tv.fetch_bars(BTC, Interval.M1, 20) for _ in range(5)))
        await tv.connection.drop()
        await asyncio.wait_for(_until(lambda: tv.reconnect_count == 1 and tv.connected), 3)
        await tv.fetch_bars(BTC, Interval.M1, 20)
    assert tv_simulator.stats["signin_calls"] == 1
    assert tv.login_count == 1
    tokens = [p[0] for m, p in tv_simulator.received if m == "set_auth_token"]
    assert len(tokens) == 2 and tokens[0] == tokens[1] and tokens[0].startswith("sim.")


async def test_wrong_password_is_upstream_rejected(tv_config: TradingViewConfig) -> None:
    config = dataclasses.replace(tv_config, username="trader", password="wrong")
    async with TradingViewClient(config) as tv:
        with pytest.raises(UpstreamRejected, match="login failed"):
            await tv.fetch_bars(BTC, Interval.M1, 10)


async def test_rate_limiter_spaces_requests_to_tradingview(tv_config: TradingViewConfig) -> None:
    config = dataclasses.replace(tv_config, rate_limit=10.0, rate_burst=1)
    async with TradingViewClient(config) as tv:
        await tv.start()
        started = time.monotonic()
        for _ in range(4):
            await tv.fetch_bars(BTC, Interval.M1, 10)
    assert time.monotonic() - started >= 0.28  # 4 requests at 10/s: three gaps of 0.1 s


async def _until(predicate: Callable[[], bool], step: float = 0.01) -> None:
    while not predicate():  # noqa: ASYNC110 - polling state owned by another component
        await asyncio.sleep(step)
