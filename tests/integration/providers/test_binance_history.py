"""The Binance adapter's history against the Binance simulator over real sockets: every interval (45m and 3h
composed, checked against pandas over the simulator's 1m klines), paging both ways, unknown symbols, weights,
429, 418 and timeouts."""

import asyncio
import time

import pandas as pd
import pytest

from src.common.errors import SourceUnavailable, SymbolNotFound, UpstreamUnavailable
from src.domain.market_data import Interval, OHLCVBar, Symbol
from src.infrastructure.upstream.limits import InProcessUpstreamLimiter
from tests.integration.providers.sources import BinanceParts, binance_klines

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
BTC = Symbol("BINANCE", "BTCUSDT")
NATIVE = [i for i in Interval if i not in (Interval.M45, Interval.H3)]
COMPOSED = {Interval.M45: "45min", Interval.H3: "3h"}


def as_rows(bars: list[OHLCVBar]) -> list[tuple]:
    return [(b.time, b.open, b.high, b.low, b.close, b.volume) for b in bars]


def kline_rows(klines: list[list]) -> list[tuple]:
    return [(k[0] // 1000, *(float(v) for v in k[1:6])) for k in klines]


def resampled(klines: list[list], rule: str) -> list[tuple]:
    frame = pd.DataFrame(kline_rows(klines), columns=["t", "open", "high", "low", "close", "volume"])
    frame.index = pd.to_datetime(frame.pop("t"), unit="s", utc=True)
    out = frame.resample(rule, origin="epoch", label="left", closed="left").agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}).dropna()
    return [(int(t.timestamp()), *row) for t, row in zip(out.index, out.itertuples(index=False), strict=True)]


@pytest.fixture
async def binance(binance_simulator):
    parts = BinanceParts(binance_simulator)
    yield parts
    await parts.close()


@pytest.mark.parametrize("interval", NATIVE, ids=lambda i: i.code)
async def test_native_intervals_are_binances_klines(binance, binance_simulator, interval):
    bars = await binance.history.fetch_bars(BTC, interval, 300)
    reference = await binance_klines(binance_simulator, "BTCUSDT", BinanceCode[interval],
                                     startTime=bars[0].time * 1000, endTime=bars[-1].time * 1000)
    assert len(bars) == len(reference) and (len(bars) == 300 or interval is Interval.MN1)  # 113 months listed
    assert bars[-1].time == interval.align(int(time.time())) or bars[-1].time < time.time() - 60
    assert as_rows(bars)[:-1] == kline_rows(reference)[:-1]  # the newest may have moved on since


BinanceCode = {Interval.M1: "1m", Interval.M3: "3m", Interval.M5: "5m", Interval.M15: "15m", Interval.M30: "30m",
               Interval.H1: "1h", Interval.H2: "2h", Interval.H4: "4h", Interval.D1: "1d", Interval.W1: "1w",
               Interval.MN1: "1M"}


@pytest.mark.parametrize("interval", list(COMPOSED), ids=lambda i: i.code)
async def test_45m_and_3h_are_composed_exactly_as_pandas_resamples_the_1m_klines(binance, binance_simulator,
                                                                                 interval):
    bars = await binance.history.fetch_bars(BTC, interval, 200)
    assert len(bars) == 200 and all(b.interval is interval for b in bars)
    assert [b.time for b in bars] == list(range(bars[0].time, bars[-1].time + 1, interval.seconds))
    minutes = await binance_klines(binance_simulator, "BTCUSDT", "1m", startTime=bars[0].time * 1000,
                                   endTime=(bars[-1].time - 1) * 1000)
    reference = resampled(minutes, COMPOSED[interval])
    assert len(reference) == 199
    for ours, theirs in zip(as_rows(bars)[:-1], reference, strict=True):
        assert ours[:5] == theirs[:5] and ours[5] == pytest.approx(theirs[5], rel=1e-12)


async def test_more_than_a_page_pages_back_to_exactly_the_newest_n(binance, binance_simulator):
    bars = await binance.history.fetch_bars(BTC, Interval.M1, 2_600)
    assert len(bars) == 2_600
    assert [b.time for b in bars] == list(range(bars[0].time, bars[-1].time + 60, 60))
    assert bars[-1].time == int(time.time()) // 60 * 60 or bars[-1].time == int(time.time()) // 60 * 60 - 60
    assert binance_simulator.request_count("/api/v3/klines") == 3


async def test_newest_n_beyond_the_listing_stops_at_the_first_bar(binance, binance_simulator):
    months = await binance.history.fetch_bars(BTC, Interval.MN1, 5_000)
    listed = binance_simulator.market.symbols["BTCUSDT"].listed_ms // 1000
    assert months[0].time == Interval.MN1.align(listed) and len(months) < 200


async def test_a_range_pages_forward_from_where_history_begins(binance, binance_simulator):
    listed = binance_simulator.market.symbols["ETHBTC"].listed_ms // 1000
    bars = await binance.history.fetch_range(Symbol("BINANCE", "ETHBTC"), Interval.M1, 0, listed + 2_499 * 60)
    assert len(bars) == 2_500 and bars[0].time == listed and bars[-1].time == listed + 2_499 * 60
    reference = await binance_klines(binance_simulator, "ETHBTC", "1m", startTime=0,
                                     endTime=(listed + 2_499 * 60) * 1000)
    assert as_rows(bars) == kline_rows(reference)


async def test_a_composite_range_covers_whole_periods_and_keeps_only_the_asked_ones(binance, binance_simulator):
    start = Interval.H3.align(int(time.time()) - 40 * 86_400) + 3_600  # inside a 3h period: that period is not asked
    end = start + 10 * 10_800
    bars = await binance.history.fetch_range(BTC, Interval.H3, start, end)
    assert [b.time for b in bars] == [start - 3_600 + k * 10_800 for k in range(1, 11)]
    hours = await binance_klines(binance_simulator, "BTCUSDT", "1m", startTime=(bars[0].time) * 1000,
                                 endTime=(bars[-1].time + 10_800 - 1) * 1000)
    assert as_rows(bars)[0][:5] == resampled(hours, "3h")[0][:5]


async def test_an_unknown_or_foreign_symbol_is_symbol_not_found(binance, binance_simulator):
    binance_simulator.faults.unknown_symbols = {"SOLUSDT"}
    with pytest.raises(SymbolNotFound):
        await binance.history.fetch_bars(Symbol("BINANCE", "SOLUSDT"), Interval.M1, 10)
    with pytest.raises(SymbolNotFound):
        await binance.history.fetch_bars(Symbol("NASDAQ", "AAPL"), Interval.M1, 10)
    assert binance_simulator.request_count("/api/v3/klines") == 1  # the foreign one never left


async def test_used_weight_near_the_exchanges_limit_waits_for_the_next_window_instead_of_a_429(binance_simulator):
    binance_simulator.faults.weight_limit, binance_simulator.faults.weight_window = 20, 2.0
    parts = BinanceParts(binance_simulator, weight_per_minute=20, weight_share=0.8)
    try:
        for _ in range(15):  # 30 weight: more than one window's limit
            await parts.history.fetch_range(BTC, Interval.M1, 1_699_999_980, 1_700_000_580)
    finally:
        await parts.close()
    assert parts.rest.rate_limited == 0 and binance_simulator.request_count("/api/v3/klines") == 15


async def test_a_429_blocks_the_source_for_its_retry_after_and_the_request_goes_again(binance_simulator):
    binance_simulator.faults.weight_limit, binance_simulator.faults.weight_window = 4, 1.0
    limiter = InProcessUpstreamLimiter("binance", 1_000, 1_000, max_wait_s=5)
    parts = BinanceParts(binance_simulator, limiter, weight_per_minute=1_000_000)  # headers never warn
    try:
        began = time.monotonic()
        pages = await asyncio.gather(*(parts.history.fetch_range(BTC, Interval.M1, 1_699_999_980, 1_700_000_580)
                                       for _ in range(4)))
    finally:
        await parts.close()
    assert all(len(page) == 11 and page == pages[0] for page in pages)
    assert parts.rest.rate_limited >= 1 and time.monotonic() - began >= 0.5


async def test_a_418_ban_fails_at_once_with_retry_after_and_keeps_every_request_away(binance, binance_simulator):
    binance_simulator.faults.force_status, binance_simulator.faults.ban_seconds = 418, 120.0
    with pytest.raises(SourceUnavailable) as banned:
        await binance.history.fetch_bars(BTC, Interval.M1, 10)
    assert banned.value.source == "binance" and 100 <= banned.value.retry_after_s <= 120
    binance_simulator.faults.force_status = None
    with pytest.raises(SourceUnavailable):
        await binance.history.fetch_bars(BTC, Interval.M1, 10)
    assert binance_simulator.request_count("/api/v3/klines") == 1


async def test_a_hanging_exchange_is_upstream_unavailable_within_the_timeout(binance_simulator):
    binance_simulator.faults.hang = True
    parts = BinanceParts(binance_simulator, request_timeout=0.5)
    began = time.monotonic()
    try:
        with pytest.raises(UpstreamUnavailable):
            await parts.history.fetch_bars(BTC, Interval.M1, 10)
    finally:
        binance_simulator.faults.hang = False
        await parts.close()
    assert time.monotonic() - began < 2.0


async def test_server_errors_are_upstream_unavailable(binance, binance_simulator):
    binance_simulator.faults.error_rate = 1.0
    with pytest.raises(UpstreamUnavailable):
        await binance.history.fetch_bars(BTC, Interval.H1, 10)
