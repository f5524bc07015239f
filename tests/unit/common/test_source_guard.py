"""`SourceGuard`: the breaker applied around a provider — what counts as a failure, refusing at once while open,
the probe, cancellation, the health check, and a feed's pass-through."""

import asyncio

import pytest

from src.common.errors import InvalidRequest, SourceUnavailable, SymbolNotFound, UpstreamRejected, UpstreamUnavailable
from src.common.source_guard import SourceGuard
from src.domain.market_data import Interval, Symbol
from src.domain.sources import BreakerPolicy, CircuitState
from tests.fakes import FakeProvider, FakeQuoteFeed, fake_provider

BTC = Symbol("BINANCE", "BTCUSDT")
POLICY = BreakerPolicy(failure_threshold=2, open_for_s=10.0, probe_retry_s=1.0)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def world():
    clock, upstream = Clock(), FakeProvider()
    upstream.add_history(BTC, Interval.M1, 1_700_000_000, 5)
    guard = SourceGuard("binance", POLICY, clock=clock)
    provider = guard.wrap(fake_provider("binance", upstream, FakeQuoteFeed()))
    return clock, upstream, guard, provider


async def fail_twice(provider, upstream) -> None:
    upstream.unavailable = True
    for _ in range(2):
        with pytest.raises(UpstreamUnavailable):
            await provider.history.fetch_bars(BTC, Interval.M1, 5)


async def test_failures_in_a_row_open_it_and_then_requests_are_refused_without_reaching_the_source(world):
    clock, upstream, guard, provider = world
    await fail_twice(provider, upstream)
    clock.now = 4.0
    with pytest.raises(SourceUnavailable) as refused:
        await provider.history.fetch_range(BTC, Interval.M1, 0, 10)
    assert (refused.value.source, refused.value.retry_after_s) == ("binance", 6.0)
    assert guard.state is CircuitState.OPEN and guard.refused == 1 and len(upstream.ranges) == 0


@pytest.mark.parametrize("error", [SymbolNotFound("x"), InvalidRequest("x")])
async def test_answers_naming_the_callers_mistake_are_not_failures(world, error):
    _, upstream, guard, provider = world

    async def refuse(*args, **kwargs):
        raise error

    upstream.fetch_bars = refuse
    for _ in range(5):
        with pytest.raises(type(error)):
            await provider.history.fetch_bars(BTC, Interval.M1, 5)
    assert guard.state is CircuitState.CLOSED


async def test_a_refusal_by_the_source_counts_as_a_failure(world):
    _, upstream, guard, provider = world

    async def reject(*args, **kwargs):
        raise UpstreamRejected("banned")

    upstream.search_symbols = reject
    for _ in range(2):
        with pytest.raises(UpstreamRejected):
            await provider.symbols.search_symbols("BTC")
    assert guard.state is CircuitState.OPEN


async def test_after_the_open_period_one_probe_goes_and_its_success_closes_it(world):
    clock, upstream, guard, provider = world
    await fail_twice(provider, upstream)
    upstream.unavailable, clock.now = False, 10.0
    upstream.gate = asyncio.Event()
    probe = asyncio.create_task(provider.history.fetch_bars(BTC, Interval.M1, 5))
    await asyncio.sleep(0)
    with pytest.raises(SourceUnavailable) as waiting:  # only the probe is in flight
        await provider.symbols.resolve_symbol(BTC)
    assert waiting.value.retry_after_s == POLICY.probe_retry_s and guard.state is CircuitState.HALF_OPEN
    upstream.gate.set()
    assert len(await probe) == 5 and guard.state is CircuitState.CLOSED


async def test_a_failed_probe_opens_it_for_another_period(world):
    clock, upstream, guard, provider = world
    await fail_twice(provider, upstream)
    clock.now = 10.0
    with pytest.raises(UpstreamUnavailable):
        await provider.history.fetch_bars(BTC, Interval.M1, 5)
    assert guard.state is CircuitState.OPEN and guard.breaker.opened_at == 10.0 and guard.breaker.times_opened == 2


async def test_a_cancelled_probe_lets_the_next_request_probe(world):
    clock, upstream, guard, provider = world
    await fail_twice(provider, upstream)
    upstream.unavailable, clock.now, upstream.gate = False, 10.0, asyncio.Event()
    probe = asyncio.create_task(provider.history.fetch_bars(BTC, Interval.M1, 5))
    await asyncio.sleep(0)
    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe
    upstream.gate.set()
    assert len(await provider.history.fetch_bars(BTC, Interval.M1, 5)) == 5 and guard.state is CircuitState.CLOSED


async def test_the_health_check_passes_only_while_closed(world):
    _clock, upstream, guard, provider = world
    assert await guard.check() is True
    await fail_twice(provider, upstream)
    with pytest.raises(SourceUnavailable, match="circuit is open"):
        await guard.check()


async def test_subscribing_is_guarded_while_letting_go_and_the_stream_pass_through(world):
    _, upstream, _guard, provider = world
    feed = provider.quotes
    assert feed is not None
    await fail_twice(provider, upstream)
    with pytest.raises(SourceUnavailable):
        await feed.subscribe([BTC])
    await feed.unsubscribe([BTC])  # works while open
    assert feed.connected and feed.reconnect_count == 0 and feed.subscriptions == []


async def test_a_request_refused_by_the_sources_budget_is_no_failure_of_the_source(world):
    _, upstream, guard, provider = world

    async def over_budget(*args, **kwargs):
        raise SourceUnavailable("over budget", source="binance", retry_after_s=3.0)

    upstream.fetch_bars = over_budget
    for _ in range(5):
        with pytest.raises(SourceUnavailable):
            await provider.history.fetch_bars(BTC, Interval.M1, 5)
    assert guard.state is CircuitState.CLOSED
