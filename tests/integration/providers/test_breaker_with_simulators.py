"""Each source's circuit breaker with a failing simulator: closed -> open after the failures in a row (requests
then refused without reaching the simulator) -> half-open probe after the open period -> closed once the source
answers again, or open again if it still fails; the other source is unaffected throughout."""

import asyncio

import pytest

from src.common.errors import SourceUnavailable, UpstreamUnavailable
from src.common.ports import Provider
from src.common.source_guard import SourceGuard
from src.domain.market_data import Interval, Symbol
from src.domain.sources import BreakerPolicy, CircuitState
from tests.integration.providers.sources import BinanceParts, YahooParts

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]
BTC, AAPL = Symbol("BINANCE", "BTCUSDT"), Symbol("YAHOO", "AAPL")
POLICY = BreakerPolicy(failure_threshold=3, open_for_s=0.4)
KLINES = "/api/v3/klines"


@pytest.fixture
async def guarded(binance_simulator, yahoo_simulator):
    binance, yahoo = BinanceParts(binance_simulator), YahooParts(yahoo_simulator)
    guards = {"binance": SourceGuard("binance", POLICY), "yahoo": SourceGuard("yahoo", POLICY)}
    providers = {
        "binance": guards["binance"].wrap(Provider("binance", binance.history, binance.symbols, binance.feed)),
        "yahoo": guards["yahoo"].wrap(Provider("yahoo", yahoo.history, yahoo.symbols, yahoo.feed)),
    }
    yield guards, providers
    await binance.close()
    await yahoo.close()


async def test_a_failing_simulator_opens_then_a_probe_closes_it_once_it_answers(guarded, binance_simulator):
    guards, providers = guarded
    binance_simulator.faults.error_rate = 1.0
    for _ in range(3):
        with pytest.raises(UpstreamUnavailable):
            await providers["binance"].history.fetch_bars(BTC, Interval.H1, 10)
    assert guards["binance"].state is CircuitState.OPEN
    sent = binance_simulator.request_count(KLINES)
    with pytest.raises(SourceUnavailable):
        await providers["binance"].history.fetch_bars(BTC, Interval.H1, 10)
    assert binance_simulator.request_count(KLINES) == sent
    assert len(await providers["yahoo"].history.fetch_bars(AAPL, Interval.D1, 10)) == 10  # unaffected

    await asyncio.sleep(0.45)
    with pytest.raises(UpstreamUnavailable):  # the probe fails: open again
        await providers["binance"].history.fetch_bars(BTC, Interval.H1, 10)
    assert guards["binance"].state is CircuitState.OPEN and guards["binance"].breaker.times_opened == 2

    binance_simulator.faults.error_rate = 0.0
    await asyncio.sleep(0.45)
    assert len(await providers["binance"].history.fetch_bars(BTC, Interval.H1, 10)) == 10  # the probe succeeds
    assert guards["binance"].state is CircuitState.CLOSED
    assert binance_simulator.request_count(KLINES) == sent + 2


async def test_a_hanging_source_opens_its_circuit_by_timeouts(guarded, yahoo_simulator):
    guards, _ = guarded
    yahoo_simulator.faults.hang = True
    parts = YahooParts(yahoo_simulator, request_timeout=0.2)
    provider = guards["yahoo"].wrap(Provider("yahoo", parts.history, parts.symbols))
    try:
        for _ in range(3):
            with pytest.raises(UpstreamUnavailable):
                await provider.symbols.search_symbols("apple")
        assert guards["yahoo"].state is CircuitState.OPEN
        with pytest.raises(SourceUnavailable) as refused:
            await provider.history.fetch_bars(AAPL, Interval.D1, 5)
        assert refused.value.source == "yahoo" and 0 < refused.value.retry_after_s <= 0.4
    finally:
        yahoo_simulator.faults.hang = False
        await parts.close()
