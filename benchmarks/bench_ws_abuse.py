"""`/health` while hostile WebSocket clients run (issue 13 §1).

The service runs as `src.app.serve` runs it (its WebSocket protocol, the embedded store, rate limits on), in a
process of its own pinned to the server CPU, live quotes from the TradingView simulator (in this process,
trading BINANCE:BTCUSDT 200 times a second). Eight abusive clients (`_ws_abusers`: subscribe floods, clients
that never read, JSON and WebSocket ping floods, each reconnecting when closed) run in another process.

`ws_abuse_health_p99_ms`: p99 of sequential `GET /health` (100 a second) while they run (target ≤ 50 ms),
beside `ws_abuse_health_idle_p99_ms`, the same without them, and `ws_abuse_client_p99_ms`: trade to quote frame
of a well-behaved client subscribed before the abuse (frames coalesce: a frame delivers every earlier trade).
"""

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time

import httpx
import orjson
from websockets.asyncio.client import connect

from benchmarks._load import cpus, free_port, pin
from simulators.tradingview import TradingViewSimulator

BTC = "BINANCE:BTCUSDT"
ABUSE_S = 8.0
OUR_COMPONENTS = {"mongo", "cache", "source-tradingview", "quotes", "alerts"}
PROBES = 500


def _server(sim: TradingViewSimulator, port: int, data_dir: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "API_HOST": "127.0.0.1", "API_PORT": str(port), "DATA_DIR": data_dir,
           "TRADINGVIEW_WS_URL": sim.ws_url, "TRADINGVIEW_SEARCH_URL": sim.search_url,
           "TRADINGVIEW_SIGNIN_URL": sim.signin_url, "LOG_LEVEL": "ERROR", "SCHEDULER_ENABLED": "false",
           "BINANCE_ENABLED": "false", "YAHOO_ENABLED": "false", "LIVE_FEATURE_SETS": "[]"}
    code = "from src.app.serve import serve; from src.common.settings import load_settings; serve(load_settings())"
    process = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    pin(process.pid, cpus()[0])
    return process


async def _ready(url: str, process: subprocess.Popen[bytes]) -> None:
    """Until our server is healthy. Another process may have taken the port meanwhile (the machine is shared):
    ours is the one whose components are exactly what we configured, and only while it runs."""
    async with httpx.AsyncClient(base_url=url, timeout=2) as http:
        for _ in range(300):
            if process.poll() is not None:
                raise RuntimeError(f"the served app exited with {process.returncode} (port taken?)")
            try:
                response = await http.get("/health")
            except httpx.HTTPError:
                await asyncio.sleep(0.1)
                continue
            components = set(response.json().get("components", {}))
            if components != OUR_COMPONENTS:
                raise RuntimeError(f"another server answers on {url}: {sorted(components)}")
            if response.status_code == 200 and process.poll() is None:
                return
            await asyncio.sleep(0.1)
    raise RuntimeError("the served app did not become healthy")


def _abusers_cpu() -> None:
    """The load generators' CPUs, at the lowest priority: flooding as fast as they can, they must not delay the
    process that measures, which shares those CPUs (the server has its own)."""
    pin(0, cpus()[1])
    os.nice(19)


async def _health_p99_ms(url: str, count: int) -> float:
    latencies = []
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        for _ in range(count):
            began = time.perf_counter()
            response = await http.get("/health")
            latencies.append((time.perf_counter() - began) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"/health answered {response.status_code}: {response.text}")
            await asyncio.sleep(max(0.0, 0.01 - (time.perf_counter() - began)))
    return sorted(latencies)[int(0.99 * (len(latencies) - 1))]


class Market:
    """Trades BTC on the simulator; a subscribed client's quote frames deliver them (by cumulative volume)."""

    def __init__(self, sim: TradingViewSimulator) -> None:
        self.sim = sim
        self.volume = 1_000.0
        self.sent: dict[float, float] = {}
        self.latencies: list[float] = []

    async def trade(self, seconds: float, per_s: int = 200) -> None:
        began = time.perf_counter()
        while time.perf_counter() - began < seconds:
            self.volume += 1
            self.sent[self.volume] = time.perf_counter()
            await self.sim.push_tick(BTC, 60_000.0 + self.volume % 500, self.volume)
            await asyncio.sleep(1 / per_s)

    async def read(self, ws_url: str, subscribed: asyncio.Event) -> None:
        async with connect(ws_url) as ws:
            await ws.send(orjson.dumps({"action": "subscribe", "symbols": [BTC], "intervals": ["1m"]}).decode())
            async for message in ws:
                frame = orjson.loads(message)
                if frame["type"] == "snapshot":
                    subscribed.set()
                elif frame["type"] == "quote":
                    now = time.perf_counter()
                    for volume in [v for v in self.sent if v <= frame["volume"]]:
                        self.latencies.append((now - self.sent.pop(volume)) * 1000)


async def _measure(sim: TradingViewSimulator, port: int) -> dict[str, float]:
    url, ws_url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/api/v1/ws/quotes"
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        (await http.post("/api/v1/quotes/start", json={"symbols": [BTC]})).raise_for_status()
    market, subscribed = Market(sim), asyncio.Event()
    reader = asyncio.create_task(market.read(ws_url, subscribed))
    await asyncio.wait_for(subscribed.wait(), 10)
    trading = asyncio.create_task(market.trade(ABUSE_S + 6))
    idle = await _health_p99_ms(url, 200)
    market.latencies.clear()
    abusers = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "benchmarks._ws_abusers", "--url", ws_url, "--seconds", str(ABUSE_S),
        stdout=subprocess.PIPE, preexec_fn=_abusers_cpu)
    await asyncio.sleep(1.0)  # the abuse under way
    abused = await _health_p99_ms(url, PROBES)
    client = sorted(market.latencies)
    output, _ = await abusers.communicate()
    trading.cancel()
    reader.cancel()
    connections = json.loads(output.decode().strip().splitlines()[-1])["connections"]
    return {
        "ws_abuse_health_p99_ms": round(abused, 2),
        "ws_abuse_health_idle_p99_ms": round(idle, 2),
        "ws_abuse_client_p99_ms": round(client[int(0.99 * (len(client) - 1))], 2) if client else -1.0,
        "ws_abuse_connections": float(sum(connections.values())),
    }


async def run() -> dict[str, float]:
    sim = TradingViewSimulator(heartbeat_interval=10.0)
    await sim.start("127.0.0.1", 0)
    port = free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        server = _server(sim, port, data_dir)
        try:
            await _ready(f"http://127.0.0.1:{port}", server)
            return await _measure(sim, port)
        finally:
            server.terminate()
            server.wait(timeout=20)
            await sim.stop()
