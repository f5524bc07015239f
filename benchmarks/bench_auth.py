"""`auth_overhead_ratio`: rps of the cached ohlcv query sent with a JWT to an app with authentication on,
divided by the same query to the same app with authentication off, same run (issue 14; target ≥ 0.9).

Two apps as `make run` serves them (`benchmarks/_serve_app.py`: embedded store, full edge stack, a
throwaway redis-server as cache shared by both, the TradingView simulator as upstream), identical but for
AUTH_JWT_SECRET. Each syncs 500 1m bars and warms `ohlcv?interval=1m&limit=500`; then `load` (wrk or the
aiohttp generator, 32 connections) drives each, alternating on/off and off/on rounds; the ratio is the
median of the per-round ratios. Both get the same request, `Authorization: Bearer <access token>`
included (the app without authentication ignores it): the ratio is the server's cost of authenticating,
not the load generator's cost of a longer request (the Python generator spends about 6% of its requests/s
on a 300-byte header; wrk nothing measurable). With authentication on, the token is verified by signature
once, then from memory (no store lookup), and checked against the route's permission by the access-map
dependency.

`auth_overhead_cpu_ratio` is the same comparison in server CPU time per request (user + system time of
each server process, from /proc, over each run): on a machine shared with other work, requests/s swing
with what else runs, while the CPU a request costs does not.
"""

import statistics
import tempfile
from pathlib import Path
from typing import Any

import httpx

from benchmarks._load import ServedApp, cpu_seconds, generator, load, serving
from benchmarks.bench_market_data import SimulatorThread
from tests.fixtures.servers import RedisServer

ROUNDS = 10
DURATION_S = 2  # whole seconds: wrk takes no fractions
BARS = 500
OHLCV = f"/api/v1/market-data/ohlcv/BINANCE/BTCUSDT?interval=1m&limit={BARS}"
SECRET = "bench-signing-key-0123456789abcdef012345"
ADMIN_PASSWORD = "bench operator passphrase"


def _prepare(base_url: str, headers: dict[str, str]) -> None:
    with httpx.Client(base_url=base_url, timeout=60, headers=headers) as client:
        client.post("/api/v1/market-data/sync", json={"exchange": "BINANCE", "symbol": "BTCUSDT", "interval": "1m",
                                                     "n_bars": BARS}).raise_for_status()
        for _ in range(3):
            client.get(OHLCV).raise_for_status()


def _token(base_url: str) -> dict[str, str]:
    response = httpx.post(base_url + "/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _measure(on: ServedApp, off: ServedApp) -> dict[str, float]:
    headers = _token(on.base_url)
    _prepare(on.base_url, headers)
    _prepare(off.base_url, {})
    apps = {"on": on, "off": off}
    for app in apps.values():
        load(app.base_url + OHLCV, 1, headers=headers)  # warm up
    rps: dict[str, list[float]] = {"on": [], "off": []}
    cpu_per_request: dict[str, list[float]] = {"on": [], "off": []}
    ratios, cpu_ratios = [], []
    for round_ in range(ROUNDS):
        for kind in ("on", "off") if round_ % 2 == 0 else ("off", "on"):
            before = cpu_seconds(apps[kind])
            rps[kind].append(load(apps[kind].base_url + OHLCV, DURATION_S, headers=headers).rps)
            cpu_per_request[kind].append((cpu_seconds(apps[kind]) - before) / (rps[kind][-1] * DURATION_S))
        ratios.append(rps["on"][-1] / rps["off"][-1])
        cpu_ratios.append(cpu_per_request["off"][-1] / cpu_per_request["on"][-1])
    return {
        "auth_overhead_ratio": round(statistics.median(ratios), 3),
        "auth_overhead_cpu_ratio": round(statistics.median(cpu_ratios), 3),
        "auth_cpu_us_per_request_with_jwt": round(statistics.median(cpu_per_request["on"]) * 1e6, 1),
        "auth_cpu_us_per_request_without_auth": round(statistics.median(cpu_per_request["off"]) * 1e6, 1),
        "auth_ohlcv_cached_rps_with_jwt": round(statistics.median(rps["on"]), 1),
        "auth_ohlcv_cached_rps_without_auth": round(statistics.median(rps["off"]), 1),
    }


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="pq-bench-auth-") as tmp:
        redis = RedisServer(Path(tmp))
        simulator = SimulatorThread()
        try:
            simulator.start()
            sim = simulator.sim
            common: dict[str, Any] = {
                "redis_url": redis.url, "tradingview_ws_url": sim.ws_url, "tradingview_search_url": sim.search_url,
                "tradingview_signin_url": sim.signin_url, "rate_limit_capacity": 10**9,
                "rate_limit_refill_per_s": 10**9,
            }
            with_auth = {**common, "auth_jwt_secret": SECRET, "admin_password": ADMIN_PASSWORD}
            with serving(with_auth, common) as (on, off):
                figures: dict[str, Any] = dict(_measure(on, off))
        finally:
            try:
                simulator.stop()
            finally:
                redis.stop()
    figures["auth_load_generator"] = generator()
    return figures


if __name__ == "__main__":
    print(run())
