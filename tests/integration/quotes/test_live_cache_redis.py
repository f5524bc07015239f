"""Live quotes with a real redis-server (issue 13 §10): 200 symbols ticking in bursts write every cached quote
and forming bar, with no failed write, in pipelined batches over one pooled connection."""

import orjson
import pytest
from redis.asyncio import Redis

from src.app.root import Overrides, bootstrap
from src.common import cache_keys
from src.common.settings import Settings
from src.domain.market_data import Instrument, Interval, QuoteTick, Symbol
from src.infrastructure.cache import codec
from src.infrastructure.scheduling.job_store import InProcessJobStore
from tests.fakes import (
    FakeClock,
    FakeDeadLetterRepository,
    FakeOHLCVRepository,
    FakeQuoteFeed,
    FakeSymbolRepository,
    FakeSyncStatusRepository,
    fake_provider,
)

pytestmark = pytest.mark.integration

T0 = 1_700_006_400
SYMBOLS = [Instrument("tradingview", Symbol("BINANCE", f"C{n:03d}USDT")) for n in range(200)]
INTERVALS = ["1m", "5m", "15m", "1h", "1d"]


async def clients_connected(redis: Redis) -> int:
    return int((await redis.info("clients"))["connected_clients"])


async def test_200_symbols_ticking_in_bursts_write_every_key_in_batches_without_a_failure(redis_server):
    feed = FakeQuoteFeed()
    settings = Settings(scheduler_enabled=False, redis_url=redis_server.url, live_bar_intervals=INTERVALS,
                        live_close_every_s=3600, cache_near_enabled=False)
    root = bootstrap(settings, Overrides(
        clock=FakeClock(T0), providers=[fake_provider("tradingview", quotes=feed)], bars=FakeOHLCVRepository(),
        sync_status=FakeSyncStatusRepository(), symbols=FakeSymbolRepository(),
        dead_letters=FakeDeadLetterRepository(), job_store=InProcessJobStore(),
    ))
    service = root.slices["quotes"].exposed["service"]
    probe = Redis.from_url(redis_server.url)
    await root.lifecycle.start()
    try:
        await probe.flushdb()
        baseline = await clients_connected(probe)
        await service.subscribe(SYMBOLS)
        for burst in range(5):
            for n, instrument in enumerate(SYMBOLS):
                await feed.push(QuoteTick(instrument.symbol, T0 + burst, 100.0 + n + burst, 1_000.0 + burst))
            await service.drain()
        assert service.cache_write_failures == 0
        assert await clients_connected(probe) - baseline <= 2  # the pool's connections: one or two, not dozens
        for n, instrument in enumerate(SYMBOLS):
            quote = codec.decode(await probe.get(cache_keys.latest_quote(instrument)))
            assert (quote["price"], quote["timestamp"]) == (100.0 + n + 4, T0 + 4)
            for code in INTERVALS:
                bar = codec.decode(await probe.get(cache_keys.current_bar(instrument, Interval.parse(code))))
                assert bar["close"] == 100.0 + n + 4, orjson.dumps(bar)
    finally:
        await root.lifecycle.stop()
        await probe.aclose()
