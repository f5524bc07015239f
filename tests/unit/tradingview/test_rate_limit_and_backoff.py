import asyncio
import itertools
import random
import time

import pytest

from src.providers.tradingview.connection import backoff_delay
from src.providers.tradingview.rate_limit import RateLimiter


async def test_rate_limiter_spaces_requests_after_the_burst() -> None:
    limiter = RateLimiter(rate=20, burst=2)
    started = time.monotonic()
    stamps = []
    for _ in range(6):
        await limiter.acquire()
        stamps.append(time.monotonic() - started)
    assert stamps[1] < 0.02  # the burst passes at once
    gaps = [b - a for a, b in itertools.pairwise(stamps[2:])]
    assert all(g >= 0.04 for g in gaps)  # then 1/20 s apart (some slack for timers)
    assert stamps[-1] >= 0.18


async def test_disabled_limiter_never_waits() -> None:
    limiter = RateLimiter(rate=None)
    await asyncio.wait_for(asyncio.gather(*(limiter.acquire() for _ in range(1000))), 0.5)


def test_rate_limiter_rejects_nonsense_settings() -> None:
    with pytest.raises(ValueError):
        RateLimiter(rate=0)
    with pytest.raises(ValueError):
        RateLimiter(rate=1, burst=0)


def test_backoff_doubles_from_base_to_cap_with_jitter() -> None:
    rng = random.Random(1)
    for attempt, ceiling in [(0, 1), (1, 2), (2, 4), (5, 32), (6, 60), (50, 60)]:
        delay = backoff_delay(attempt, 1.0, 60.0, rng)
        assert ceiling / 2 <= delay <= ceiling
