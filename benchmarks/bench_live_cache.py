"""Live quotes with Redis against the same without it (issue 13 §10): the service's CPU per tick, 200 symbols
ticking in bursts, with the quote and forming-bar cache in a real redis-server or in process, same run.

The service is built through the composition root (a fake quote feed, the store faked in memory, five live
intervals); each burst gives every symbol 5 ticks back to back, then 50 ms pass (the cache writer flushes in
them). CPU is this process's (`time.process_time`: the service, the Redis client and its pipelines; not the
redis-server). Runs alternate between the two setups and each figure is the median of its runs.

`live_cpu_per_tick_ratio_redis`: CPU per tick with Redis ÷ without (target ≤ 1.5);
`live_cache_write_failures_redis`: failed cache writes with Redis (target 0)."""

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from src.app.root import Overrides, Root, bootstrap
from src.common.settings import Settings
from src.domain.market_data import Instrument, QuoteTick, Symbol
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
from tests.fixtures.servers import RedisServer

T0 = 1_700_006_400
SYMBOLS = [Instrument("tradingview", Symbol("BINANCE", f"C{n:03d}USDT")) for n in range(200)]
TICKS_PER_BURST = 5  # per symbol
BURSTS = 40
PAUSE_S = 0.05
ROUNDS = 3


def _root(feed: FakeQuoteFeed, redis_url: str | None) -> Root:
    settings = Settings(_env_file=None, scheduler_enabled=False, redis_url=redis_url,  # type: ignore[call-arg]
                        live_bar_intervals=["1m", "5m", "15m", "1h", "1d"], live_close_every_s=3600)
    return bootstrap(settings, Overrides(
        clock=FakeClock(T0), providers=[fake_provider("tradingview", quotes=feed)], bars=FakeOHLCVRepository(),
        sync_status=FakeSyncStatusRepository(), symbols=FakeSymbolRepository(),
        dead_letters=FakeDeadLetterRepository(), job_store=InProcessJobStore(),
    ))


async def _bursts(feed: FakeQuoteFeed) -> int:
    ticks = 0
    for burst in range(BURSTS):
        for k in range(TICKS_PER_BURST):
            when = T0 + burst + k / TICKS_PER_BURST
            for n, instrument in enumerate(SYMBOLS):
                await feed.push(QuoteTick(instrument.symbol, when, 100.0 + n + k, 1_000.0 + ticks))
                ticks += 1
        await asyncio.sleep(PAUSE_S)
    return ticks


async def _cpu_per_tick_us(redis_url: str | None) -> tuple[float, int]:
    """(CPU µs per tick, failed cache writes) of one run."""
    feed = FakeQuoteFeed()
    root = _root(feed, redis_url)
    service = root.slices["quotes"].exposed["service"]
    await root.lifecycle.start()
    try:
        await service.subscribe(SYMBOLS)
        await service.drain()
        began = time.process_time()
        ticks = await _bursts(feed)
        await service.drain()
        cpu = time.process_time() - began
        return cpu / ticks * 1e6, service.cache_write_failures
    finally:
        await root.lifecycle.stop()


async def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as directory:
        redis = RedisServer(Path(directory))
        try:
            memory, with_redis, failures = [], [], 0
            for _ in range(ROUNDS):
                memory.append((await _cpu_per_tick_us(None))[0])
                per_tick, failed = await _cpu_per_tick_us(redis.url)
                with_redis.append(per_tick)
                failures += failed
        finally:
            redis.stop()
    return {
        "live_cpu_per_tick_ratio_redis": round(statistics.median(with_redis) / statistics.median(memory), 3),
        "live_cpu_per_tick_us_redis": round(statistics.median(with_redis), 2),
        "live_cpu_per_tick_us_memory": round(statistics.median(memory), 2),
        "live_cache_write_failures_redis": float(failures),
    }
