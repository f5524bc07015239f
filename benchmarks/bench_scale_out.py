"""Scale-out figures (issue 20), with real processes: `pocketquant serve` processes by role (two collectors,
two API workers), the embedded store as its own process and one redis-server; the TradingView simulator
and the clients run on this benchmark's event loop.

- `cross_worker_event_p99_ms`: a `BarCompletedEvent` published on this process's bus → events stream →
  published on the bus of another process (`_event_node`), 1,000 events at 500/s; wall clock shared.
- `cross_worker_tick_to_client_p99_ms`: simulator tick → the leading collector → the live stream → the
  WebSocket client of an API worker, at 1,000 ticks/s (matched by unique price as `bench_quotes` does,
  coalesced ticks counted as delivered by the frame that superseded them; `cross_worker_ticks_lost`).
- `leader_lease_failover_s`: SIGKILL of the leading collector → the standby reports it leads (metrics).
- `collector_failover_s`: SIGKILL of the leading collector → the client on the API worker gets a tick again
  (the standby took the lease, read the record and subscribed the symbols again). Lease: the default 5 s.
- `api_workers_2_vs_1_ratio`: cached `GET /ohlcv` requests/s of two API workers over one, the same load
  (two generators of `_load.CONNECTIONS` connections) on this 2-core machine; reported, not a target.
"""

import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect

from benchmarks._load import load
from benchmarks.bench_quotes import BTC, WARMUP, Probe, drive_through
from simulators.tradingview import TradingViewSimulator
from src.app.scale_out.codec import message_codec
from src.app.scale_out.events import EventBridge
from src.common.event_bus import EventBus
from src.domain.events import BarCompletedEvent
from src.domain.market_data import Interval, OHLCVBar, SeriesKey
from src.infrastructure.streams.redis_streams import StreamFollower, StreamWriter
from tests.fixtures.cluster import Cluster, Member, tv_settings
from tests.fixtures.servers import RedisServer
from tests.integration.scale_out.conftest import streams_on

EVENTS = 1_000
EVENTS_PER_S = 500
LOAD_S = 4.0
OHLCV = "/api/v1/market-data/ohlcv/BINANCE/BTCUSDT?interval=1m&limit=500"


def _p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return round(ordered[int(0.99 * (len(ordered) - 1))], 3)


async def _cross_worker_events(redis_url: str) -> dict[str, float]:
    stream = "bench:events"
    receiver = subprocess.Popen([sys.executable, "-m", "benchmarks._event_node", "--redis", redis_url,  # noqa: ASYNC220
                                 "--stream", stream, "--count", str(EVENTS)], stdout=subprocess.PIPE, text=True)
    assert receiver.stdout is not None
    assert (await asyncio.to_thread(receiver.stdout.readline)).strip() == "ready"
    streams = streams_on(redis_url)
    bridge_bus = EventBus()
    writer = StreamWriter(streams)
    EventBridge(bridge_bus, writer, StreamFollower(streams), message_codec(), stream=stream,
                process="publisher").install()
    await writer.start()
    key = SeriesKey(BTC, Interval.M1, "tradingview")
    try:
        for n in range(EVENTS):
            bar = OHLCVBar(Interval.M1, 60 * n, 1.0, 2.0, 0.5, 1.5, 1.0)
            await bridge_bus.publish(BarCompletedEvent(occurred_at=time.time(), key=key, bar=bar))
            await asyncio.sleep(1 / EVENTS_PER_S)
        output, _ = await asyncio.to_thread(receiver.communicate, timeout=60)
    finally:
        await writer.stop()
        await streams.close()
    latencies = json.loads(output.strip().splitlines()[-1])
    return {"cross_worker_event_p99_ms": _p99(latencies), "cross_worker_event_p50_ms":
            round(statistics.median(latencies), 3), "cross_worker_events_lost": float(EVENTS - len(latencies))}


async def _subscribe(ws: ClientConnection) -> None:
    await ws.send(orjson.dumps({"action": "subscribe", "symbols": [BTC.ticker], "intervals": ["1m"]}).decode())
    while (frame := orjson.loads(await ws.recv()))["type"] != "subscribed":
        assert frame["type"] != "error", frame


async def _tick_to_client(worker: Member, sim: TradingViewSimulator) -> dict[str, float]:
    probe = Probe()
    async with connect(worker.ws_url) as ws:
        await _subscribe(ws)
        achieved = await drive_through(ws, sim, probe, grace_s=3.0)
    measured = sorted(probe.latencies[WARMUP:])
    return {"cross_worker_tick_to_client_p99_ms": _p99(measured),
            "cross_worker_tick_to_client_p50_ms": round(statistics.median(measured), 3),
            "cross_worker_ticks_lost": float(len(probe.sent)), "cross_worker_ticks_per_s_achieved": round(achieved)}


async def _failover(cluster: Cluster, worker: Member, sim: TradingViewSimulator) -> dict[str, float]:
    leader = await cluster.leader()
    standby = next(m for m in cluster.members if "collector" in m.roles and m is not leader)
    async with connect(worker.ws_url) as ws:
        await _subscribe(ws)
        await asyncio.sleep(1.5)  # the collector's record of the subscription is written every second
        leader.kill()
        killed = time.monotonic()
        ticking = asyncio.create_task(_tick_every(sim, 0.01, first_price=90_000.0))
        leading = asyncio.create_task(_until_leading(standby))
        try:
            async with asyncio.timeout(60):
                while (frame := orjson.loads(await ws.recv()))["type"] != "quote" or frame["price"] < 90_000.0:
                    pass
            collector_s = time.monotonic() - killed
            lease_s = await leading - killed
        finally:
            ticking.cancel()
            leading.cancel()
    return {"collector_failover_s": round(collector_s, 3), "leader_lease_failover_s": round(lease_s, 3)}


async def _tick_every(sim: TradingViewSimulator, every_s: float, first_price: float) -> None:
    n = 0
    while True:
        await sim.push_tick(BTC.ticker, first_price + n)
        n += 1
        await asyncio.sleep(every_s)


async def _until_leading(member: Member) -> float:
    while not await member.leading():  # noqa: ASYNC110 - polling its /metrics
        await asyncio.sleep(0.02)
    return time.monotonic()


async def _workers_ratio(first: Member, second: Member) -> dict[str, float]:
    async with httpx.AsyncClient(timeout=60) as client:
        synced = await client.post(f"{first.url}/api/v1/market-data/sync",
                                   json={"exchange": "BINANCE", "symbol": "BTCUSDT", "interval": "1m", "n_bars": 2_000})
        assert synced.status_code == 200, synced.text
        for member in (first, second):
            assert (await client.get(member.url + OHLCV)).status_code == 200  # cached from here on

    async def both(urls: tuple[str, str]) -> float:
        results = await asyncio.gather(*(asyncio.to_thread(load, url + OHLCV, LOAD_S) for url in urls))
        return sum(result.rps for result in results)

    one = await both((first.url, first.url))
    two = await both((first.url, second.url))
    return {"api_workers_2_vs_1_ratio": round(two / one, 3), "api_workers_1_rps": round(one),
            "api_workers_2_rps": round(two)}


async def run() -> dict[str, float]:
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="pq-bench-scale-") as scratch:
        redis = RedisServer(Path(scratch))
        sim = TradingViewSimulator(heartbeat_interval=10.0)
        await sim.start("127.0.0.1", 0)
        cluster = Cluster(Path(scratch), redis.url, tv_settings(sim), settings={"RATE_LIMIT_ENABLED": "false"})
        try:
            figures.update(await _cross_worker_events(redis.url))
            cluster.start_store()
            await cluster.add("collector", "collector")
            first, second = await cluster.add("api", "api")
            await cluster.leader()
            figures.update(await _tick_to_client(second, sim))
            figures.update(await _workers_ratio(first, second))
            figures.update(await _failover(cluster, second, sim))
        finally:
            await asyncio.to_thread(cluster.stop)
            await sim.stop()
            redis.stop()
    return figures
