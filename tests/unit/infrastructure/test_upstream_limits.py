"""The in-process upstream bucket (the same rule as the Redis script, which an integration test runs): starts
never outrun `capacity + refill * T`, waits are bounded, blocks stop every request."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from src.common.errors import SourceUnavailable
from src.infrastructure.upstream.limits import InProcessUpstreamLimiter


class VirtualTime:
    """A clock that only sleeping moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def limiter(time: VirtualTime, capacity=10.0, refill=5.0, max_wait=30.0) -> InProcessUpstreamLimiter:
    return InProcessUpstreamLimiter("binance", capacity, refill, max_wait_s=max_wait, clock=time, sleep=time.sleep)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(min_value=0, max_value=2), st.sampled_from([1.0, 2.0, 4.0])), min_size=1,
                max_size=120))
async def test_starts_never_spend_more_than_capacity_plus_refill_over_any_window(arrivals):
    time = VirtualTime()
    bucket = limiter(time)
    starts: list[tuple[float, float]] = []
    for gap, cost in arrivals:
        time.now += gap
        await bucket.acquire(cost)
        starts.append((time.now, cost))
    for i, (begin, _) in enumerate(starts):
        for end, _ in starts[i:]:
            spent = sum(c for t, c in starts if begin <= t <= end)
            assert spent <= 10.0 + 5.0 * (end - begin) + 1e-9


async def test_a_request_waits_for_the_units_it_lacks():
    time = VirtualTime()
    bucket = limiter(time, capacity=4, refill=2)
    await bucket.acquire(4)
    await bucket.acquire(2)
    assert time.now == pytest.approx(1.0) and bucket.waited_s == pytest.approx(1.0)


async def test_a_wait_beyond_the_bound_is_refused_at_once_and_spends_nothing():
    time = VirtualTime()
    bucket = limiter(time, capacity=4, refill=1, max_wait=2)
    await bucket.acquire(4)
    with pytest.raises(SourceUnavailable) as refused:
        await bucket.acquire(3)
    assert refused.value.retry_after_s == pytest.approx(3.0) and time.now == 0.0
    await bucket.acquire(2)  # the refused request took nothing: 2 units are 2 seconds away
    assert time.now == pytest.approx(2.0)


async def test_a_short_block_is_waited_out_and_a_long_one_refused():
    time = VirtualTime()
    bucket = limiter(time, max_wait=5)
    await bucket.block(3)
    await bucket.acquire()
    assert time.now == pytest.approx(3.0)
    await bucket.block(60)
    with pytest.raises(SourceUnavailable, match="blocked") as refused:
        await bucket.acquire()
    assert refused.value.retry_after_s == pytest.approx(60.0)


async def test_a_cost_above_the_capacity_is_treated_as_the_capacity():
    time = VirtualTime()
    bucket = limiter(time, capacity=4, refill=1)
    await bucket.acquire(100)
    assert time.now == 0.0
