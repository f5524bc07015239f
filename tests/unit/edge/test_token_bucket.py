"""The token-bucket math and the in-process limiter, with time passed in."""

import pytest

from src.infrastructure.http.rate_limit import InProcessLimiter, TrustedProxies, decide, take


def test_take_spends_one_token_when_there_is_one():
    assert take(5.0, 0.0, 0.0, 10, 1) == (4.0, True)


def test_take_refuses_below_one_token_without_spending():
    assert take(0.5, 0.0, 0.0, 10, 1) == (0.5, False)


def test_refill_is_proportional_to_elapsed_time_and_capped():
    assert take(0.0, 0.0, 2.5, 10, 2) == (4.0, True)  # 0 + 2.5 s x 2/s = 5, minus one
    assert take(9.0, 0.0, 100.0, 10, 2) == (9.0, True)  # capped at capacity 10


def test_clock_going_backwards_adds_nothing():
    assert take(0.0, 10.0, 5.0, 10, 2) == (0.0, False)


def test_decision_headers_for_a_rejection():
    decision = decide(0.25, False, 200, 20)
    assert decision.remaining == 0
    assert decision.retry_after_s == 1  # (1 - 0.25) / 20 s, rounded up to whole seconds
    assert decision.reset_s == 10  # (200 - 0.25) / 20


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_capacity_then_refill_rate():
    clock = FakeClock()
    limiter = InProcessLimiter(200, 20, clock=clock)
    allowed = [(await limiter.hit("a")).allowed for _ in range(250)]
    assert allowed.count(True) == 200
    clock.now += 0.5  # ten tokens back
    allowed = [(await limiter.hit("a")).allowed for _ in range(20)]
    assert allowed.count(True) == 10


async def test_clients_have_their_own_buckets():
    limiter = InProcessLimiter(1, 1, clock=FakeClock())
    assert (await limiter.hit("a")).allowed
    assert not (await limiter.hit("a")).allowed
    assert (await limiter.hit("b")).allowed


async def test_bucket_dict_stays_bounded():
    clock = FakeClock()
    limiter = InProcessLimiter(1, 1, max_clients=100, clock=clock)
    for i in range(1000):
        await limiter.hit(f"client-{i}")
        clock.now += 0.01
    assert len(limiter._buckets) <= 100


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("10.0.0.5", "203.0.113.1", "203.0.113.1"),  # trusted proxy: believe it
        ("10.0.0.5", "198.51.100.2, 203.0.113.1, 10.0.0.9", "203.0.113.1"),  # right-most untrusted hop
        ("192.0.2.1", "203.0.113.1", "192.0.2.1"),  # untrusted peer: ignore the header
        ("10.0.0.5", None, "10.0.0.5"),
        ("10.0.0.5", "10.0.0.7", "10.0.0.7"),  # only proxies: the left-most
    ],
)
def test_client_address_behind_trusted_proxies(peer, forwarded, expected):
    proxies = TrustedProxies(["10.0.0.0/8"])
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    assert proxies.client(peer, headers) == expected


def test_no_trusted_proxies_is_falsy():
    assert not TrustedProxies([])
