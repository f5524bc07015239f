"""Redis Streams as the deployment uses them (real redis-server): bounded length, and every call bounded in
time when the server hangs."""

import time

import pytest
from redis.asyncio import Redis

from tests.integration.scale_out.conftest import streams_on, until

pytestmark = pytest.mark.integration


async def test_a_stream_keeps_about_its_maximum_length(own_redis):
    streams = streams_on(own_redis.url, max_length=100)
    admin = Redis.from_url(own_redis.url)
    try:
        for batch in range(20):
            await streams.append([("bounded", {"n": str(batch * 100 + n)}) for n in range(100)])
        length = await admin.xlen("bounded")
    finally:
        await streams.close()
        await admin.aclose()
    assert 100 <= length < 300  # `MAXLEN ~` trims whole nodes of entries: about the bound, never unbounded


async def test_every_call_gives_up_within_its_timeout_when_redis_hangs(own_redis):
    streams = streams_on(own_redis.url, timeout_s=0.3)
    await streams.append([("hung", {"n": "1"})])  # connected before the server hangs
    own_redis.pause()
    try:
        for call in (lambda: streams.append([("hung", {"n": "2"})]), lambda: streams.end("hung"),
                     lambda: streams.read({"hung": "0-0"}, 10), lambda: streams.get("key")):
            started = time.perf_counter()
            with pytest.raises(TimeoutError):
                await call()
            assert time.perf_counter() - started < streams.block_s + 0.3 + 0.3
    finally:
        own_redis.resume()
        await streams.close()


async def test_a_process_is_present_while_it_beats_and_its_own_keys_expire_after_it(own_redis):
    from src.app.scale_out.presence import Presence

    streams = streams_on(own_redis.url)
    admin = Redis.from_url(own_redis.url)
    alive = Presence(streams, prefix="p:", process="one", ttl_s=1.0, own_keys=("p:replies:one",))
    try:
        await admin.xadd("p:replies:one", {"r": "1"})
        await alive.start()
        assert await alive.gone(["one", "two"]) == {"two"}
        assert 0 < await admin.pttl("p:replies:one") <= 3_000
        await alive.stop()
        assert await alive.gone(["one"]) == {"one"}  # said goodbye: no waiting for the TTL
    finally:
        await streams.close()
        await admin.aclose()


async def test_a_process_knows_whether_another_is_alive_to_read_its_live_stream(own_redis):
    from src.app.scale_out.presence import Presence

    streams = streams_on(own_redis.url)
    first = Presence(streams, prefix="q:", process="one", ttl_s=0.6)
    second = Presence(streams, prefix="q:", process="two", ttl_s=0.6)
    try:
        await first.start()
        assert first.others_alive is False  # alone: the collector publishes no live entries
        await second.start()
        assert second.others_alive is True
        await until(lambda: first.others_alive, 2.0)  # on its next beat
        await second.stop()
        await until(lambda: not first.others_alive, 3.0)  # the other's membership lapsed
    finally:
        await first.stop()
        await streams.close()

