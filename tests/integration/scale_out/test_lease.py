"""The leader lease on a real redis-server: one holder among contenders; a holder killed without a word
is replaced within the TTL plus one attempt; a holder cut off from Redis stops leading before anyone else
may start; a lease whose key vanished (Redis restarted) is kept by its holder."""

import asyncio
import contextlib
import time

import pytest
from redis.asyncio import Redis

from src.infrastructure.coordination.lease import LeaseKeeper, RedisLease
from tests.integration.scale_out.conftest import until

pytestmark = pytest.mark.integration

TTL_S = 1.2


class Contender:
    def __init__(self, url: str, name: str, log: list[tuple[str, str, float]]) -> None:
        self.redis = Redis.from_url(url, socket_timeout=0.3, socket_connect_timeout=0.3)
        self.lease = RedisLease(self.redis, "test:lease", name, ttl_s=TTL_S, timeout_s=0.2)
        self.keeper = LeaseKeeper(self.lease, on_acquired=self._noting("acquired"), on_lost=self._noting("lost"))
        self.name, self.log = name, log

    def _noting(self, what: str):  # type: ignore[no-untyped-def]
        async def note() -> None:
            self.log.append((self.name, what, time.monotonic()))
        return note

    async def die(self) -> None:
        """As a SIGKILL would: the keeper stops renewing and releases nothing."""
        assert self.keeper._task is not None
        self.keeper._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.keeper._task
        self.keeper._task = None
        self.keeper.held = False


@pytest.fixture
async def contenders(own_redis):
    log: list[tuple[str, str, float]] = []
    made = [Contender(own_redis.url, name, log) for name in ("a", "b", "c")]
    yield made, log
    for contender in made:
        await contender.keeper.stop()
        await contender.redis.aclose()


async def test_one_contender_holds_the_lease_at_a_time(contenders):
    made, log = contenders
    for contender in made:
        await contender.keeper.start()
    await asyncio.sleep(TTL_S * 2)
    assert [c.keeper.held for c in made] == [True, False, False]
    assert [(name, what) for name, what, _ in log] == [("a", "acquired")]


async def test_a_holder_killed_without_a_word_is_replaced_within_the_ttl_and_one_attempt(contenders):
    made, _ = contenders
    for contender in made:
        await contender.keeper.start()
    await made[0].die()
    died = time.monotonic()
    await until(lambda: made[1].keeper.held or made[2].keeper.held, timeout_s=TTL_S * 3)
    assert time.monotonic() - died <= TTL_S + TTL_S / 3 + 0.3
    assert sum(c.keeper.held for c in made[1:]) == 1


async def test_a_holder_stopping_hands_over_at_once(contenders):
    made, _ = contenders
    for contender in made[:2]:
        await contender.keeper.start()
    await made[0].keeper.stop()
    stopped = time.monotonic()
    await until(lambda: made[1].keeper.held, timeout_s=TTL_S * 2)
    assert time.monotonic() - stopped <= TTL_S / 3 + 0.3  # the next attempt, not the TTL


async def test_a_holder_cut_off_from_redis_stops_leading_before_the_lease_expires(contenders, own_redis):
    made, log = contenders
    await made[0].keeper.start()
    renewed = time.monotonic()
    own_redis.pause()
    try:
        await until(lambda: not made[0].keeper.held, timeout_s=TTL_S * 2)
        assert time.monotonic() - renewed < TTL_S  # nobody else could have taken it yet
    finally:
        own_redis.resume()
    assert [what for _, what, _ in log] == ["acquired", "lost"]


async def test_the_holder_keeps_a_lease_whose_key_vanished(contenders, own_redis):
    made, log = contenders
    await made[0].keeper.start()
    admin = Redis.from_url(own_redis.url)
    try:
        await admin.flushall()
        await asyncio.sleep(TTL_S)
        assert made[0].keeper.held and await admin.get("test:lease") == b"a"
    finally:
        await admin.aclose()
    assert [what for _, what, _ in log] == ["acquired"]
