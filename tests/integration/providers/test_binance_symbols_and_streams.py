"""The Binance adapter's symbol directory and live feed against the simulator over real sockets: exchangeInfo
(cached, TRADING only), the trade stream's cumulative volume as the live bar aggregator reads it, ping/pong,
renewal before the lifetime, the server's cut and dropped connections with resubscription and backfill."""

import asyncio
import time

import pytest

from src.common.errors import InvalidRequest, SymbolNotFound
from src.domain.market_data import Interval, QuoteTick, Symbol
from src.domain.realtime.aggregator import BarAggregator
from tests.integration.providers.sources import BinanceParts, get_json

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]
BTC, ETH = Symbol("BINANCE", "BTCUSDT"), Symbol("BINANCE", "ETHUSDT")


class Ticks:
    def __init__(self) -> None:
        self.seen: list[QuoteTick] = []

    async def __call__(self, tick: QuoteTick) -> None:
        self.seen.append(tick)

    def of(self, symbol: Symbol) -> list[QuoteTick]:
        return [t for t in self.seen if t.symbol == symbol]

    async def until(self, predicate, within: float = 5.0) -> None:
        deadline = time.monotonic() + within
        while not predicate():
            assert time.monotonic() < deadline, f"not within {within}s: {self.seen[-3:]}"
            await asyncio.sleep(0.02)


@pytest.fixture
async def binance(binance_simulator):
    # A reconnect waits 0.15-0.3 s: long enough for a test to trade while nobody listens.
    parts = BinanceParts(binance_simulator, backoff_base_s=0.3, backoff_cap_s=0.3, messages_per_s=50)
    yield parts
    await parts.close()


async def connected_feed(parts: BinanceParts, *symbols: Symbol) -> Ticks:
    ticks = Ticks()
    parts.feed.add_quote_callback(ticks)
    await parts.feed.subscribe(list(symbols))
    await asyncio.sleep(0.1)  # the SUBSCRIBE answer is in; trades from now reach us
    return ticks


# --- symbols ------------------------------------------------------------------------------------------


async def test_a_trading_pair_resolves_with_its_assets_and_filters(binance):
    info = await binance.symbols.resolve_symbol(BTC)
    assert (info.symbol, info.description, info.currency, info.session, info.timezone) == \
        (BTC, "BTC / USDT", "USDT", "24x7", "Etc/UTC")
    assert (info.extra["tick_size"], info.extra["step_size"]) == ("0.01000000", "0.00001000")


@pytest.mark.parametrize("code", ["BCCUSDT", "LUNAUSDT", "NOPEUSDT"])  # BREAK, HALT, unknown
async def test_pairs_not_trading_are_not_found(binance, code):
    with pytest.raises(SymbolNotFound):
        await binance.symbols.resolve_symbol(Symbol("BINANCE", code))


async def test_search_ranks_the_exact_pair_first_and_lists_only_trading_pairs(binance):
    assert [m.symbol.code for m in await binance.symbols.search_symbols("ethusdt")] == ["ETHUSDT"]
    found = [m.symbol.code for m in await binance.symbols.search_symbols("USDT")]
    assert set(found) == {"BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT"}
    assert await binance.symbols.search_symbols("BTC", exchange="NASDAQ") == []


async def test_exchange_info_is_fetched_once_while_fresh(binance, binance_simulator):
    for _ in range(5):
        await binance.symbols.resolve_symbol(BTC)
        await binance.symbols.search_symbols("ETH")
    assert binance_simulator.request_count("/api/v3/exchangeInfo") == 1


async def test_exchange_info_is_fetched_again_once_stale(binance_simulator):
    parts = BinanceParts(binance_simulator, symbols_ttl_s=0.2)
    try:
        await parts.symbols.resolve_symbol(BTC)
        await asyncio.sleep(0.25)
        await asyncio.gather(*(parts.symbols.resolve_symbol(BTC) for _ in range(5)))
    finally:
        await parts.close()
    assert binance_simulator.request_count("/api/v3/exchangeInfo") == 2


# --- live trades --------------------------------------------------------------------------------------


async def test_subscribing_delivers_the_snapshot_then_each_trade_with_the_running_total(binance, binance_simulator):
    ticks = await connected_feed(binance, BTC)
    await binance_simulator.push_trade("BTCUSDT", "60001.00", "0.5")
    await binance_simulator.push_trade("BTCUSDT", "60002.50", "0.25")
    await ticks.until(lambda: len(ticks.of(BTC)) == 3)
    snapshot, first, second = ticks.of(BTC)
    assert snapshot.cumulative_volume == 0.0 and snapshot.bid is not None
    assert (first.price, first.cumulative_volume) == (60001.0, 0.5)
    assert (second.price, second.cumulative_volume) == (60002.5, 0.75)
    assert binance.feed.subscriptions == [BTC] and binance.feed.connected


async def test_unknown_pairs_raise_after_the_others_are_subscribed(binance):
    with pytest.raises(SymbolNotFound) as missing:
        await binance.feed.subscribe([BTC, Symbol("BINANCE", "BCCUSDT"), Symbol("NYSE", "IBM")])
    assert "BCCUSDT" in str(missing.value) and binance.feed.subscriptions == [BTC]


async def test_the_aggregators_bar_volume_is_the_volume_traded_since_subscribing(binance, binance_simulator):
    ticks = await connected_feed(binance, ETH)
    aggregator = BarAggregator([Interval.M1, Interval.H1], source="binance")
    for quantity in ("1.5", "0.25", "2", "0.125"):
        await binance_simulator.push_trade("ETHUSDT", "3000.00", quantity)
    await ticks.until(lambda: len(ticks.of(ETH)) == 5)
    for tick in ticks.of(ETH):
        aggregator.on_quote(tick)
    hour = aggregator.forming(ETH, Interval.H1)
    assert hour is not None and hour.volume == pytest.approx(3.875)
    minute = aggregator.forming(ETH, Interval.M1)
    kline = (await get_json(binance_simulator.api_url + "/v3/klines", symbol="ETHUSDT", interval="1m",
                            startTime=minute.time * 1000, limit=1))[0]
    assert minute.volume == pytest.approx(float(kline[5]))  # every trade of the minute came after the snapshot


async def test_server_pings_are_answered_so_the_connection_stays(binance_simulator):
    # Three pings a second (pongs count towards the 5 messages a second a client may send), 0.9 s to answer.
    binance_simulator.faults.ping_interval, binance_simulator.faults.pong_timeout = 0.3, 0.9
    parts = BinanceParts(binance_simulator)
    try:
        await connected_feed(parts, BTC)
        await asyncio.sleep(2.0)
        assert parts.feed.connected and parts.feed.reconnect_count == 0
    finally:
        await parts.close()


async def test_the_stream_is_renewed_before_its_lifetime_without_losing_or_repeating_a_trade(binance_simulator):
    parts = BinanceParts(binance_simulator, stream_lifetime_s=0.3, messages_per_s=50)
    try:
        ticks = await connected_feed(parts, BTC)
        for index in range(30):
            await binance_simulator.push_trade("BTCUSDT", "60000.00", "0.001")
            await asyncio.sleep(0.03 if index % 5 else 0.1)
        await ticks.until(lambda: len(ticks.of(BTC)) == 31)
        await asyncio.sleep(0.2)
        assert parts.feed.renewals >= 2 and parts.feed.reconnect_count == 0
        trades = ticks.of(BTC)[1:]
        assert len(trades) == 30 and trades[-1].cumulative_volume == pytest.approx(0.03)
    finally:
        await parts.close()


async def replay_case(binance, binance_simulator, cut) -> Ticks:
    """Trades before, during and after a cut of the connection: each delivered once, in order."""
    ticks = await connected_feed(binance, BTC, ETH)
    await binance_simulator.push_trade("BTCUSDT", "60000.00", "1")
    await ticks.until(lambda: len(ticks.of(BTC)) == 2)
    await cut()
    for price in ("60001.00", "60002.00", "60003.00"):
        await binance_simulator.push_trade("BTCUSDT", price, "0.5")  # while nobody listens
    await binance_simulator.push_trade("ETHUSDT", "3000.00", "2")
    await ticks.until(lambda: binance.feed.reconnect_count >= 1 and binance.feed.connected)
    await asyncio.sleep(0.1)
    await binance_simulator.push_trade("BTCUSDT", "60004.00", "0.25")  # on the new connection
    await ticks.until(lambda: len(ticks.of(BTC)) == 6 and len(ticks.of(ETH)) == 2)
    return ticks


def assert_replayed(ticks: Ticks, binance) -> None:
    btc = ticks.of(BTC)[1:]
    assert [t.price for t in btc] == [60000.0, 60001.0, 60002.0, 60003.0, 60004.0]
    assert [t.cumulative_volume for t in btc] == [1.0, 1.5, 2.0, 2.5, 2.75]
    assert [t.time for t in btc] == sorted(t.time for t in btc)
    assert ticks.of(ETH)[1].cumulative_volume == 2.0
    assert binance.feed.backfilled == 4


async def test_a_dropped_connection_is_reopened_resubscribed_and_its_gap_replayed_once(binance, binance_simulator):
    assert_replayed(await replay_case(binance, binance_simulator, binance_simulator.drop_streams), binance)


async def test_the_servers_lifetime_cut_is_followed_by_a_reconnect_with_backfill(binance, binance_simulator):
    async def cut_by_lifetime() -> None:  # the feed's own renewal is far off (23.5 h): the server cuts first
        binance_simulator.faults.connection_lifetime = 0.05
        await Ticks().until(lambda: not binance.feed.connected)
        binance_simulator.faults.connection_lifetime = 86_400.0

    assert_replayed(await replay_case(binance, binance_simulator, cut_by_lifetime), binance)


async def test_more_pairs_than_a_connection_carries_are_refused(binance_simulator):
    parts = BinanceParts(binance_simulator, max_streams=1)
    try:
        await parts.feed.subscribe([BTC])
        with pytest.raises(InvalidRequest):
            await parts.feed.subscribe([ETH])
        assert parts.feed.subscriptions == [BTC]
    finally:
        await parts.close()


async def test_unsubscribing_the_last_pair_closes_the_stream(binance):
    await connected_feed(binance, BTC)
    await binance.feed.unsubscribe([BTC])
    assert binance.feed.subscriptions == [] and not binance.feed.connected
