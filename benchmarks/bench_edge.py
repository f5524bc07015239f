"""`edge_stack_ratio`: rps of a trivial route behind the full edge middleware (correlation id, metrics,
rate limit, idempotency) divided by the same route of the same app without that middleware, same run.

Each app runs in its own uvicorn process (no access log, log level warning) on a free port and is loaded
with `wrk` at 32 connections (an aiohttp load generator in a subprocess when wrk is missing). Runs
alternate A/B B/A A/B ... and the ratio is the median of each round's ratio: the two runs of a round are
seconds apart, so drift from other work on the machine cancels. The rps figures are medians. With two or
more CPUs the servers are pinned to one CPU and the load generator to the others.
"""

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from typing import Any

CONNECTIONS = 32
DURATION_S = 2  # whole seconds: wrk takes no fractions
ROUNDS = 6
PATH = "/bench/ping"


def build_app(kind: str) -> Any:
    """The app `create_app` builds, with (`full`) or without (`bare`) the edge's middleware stack: the
    same routes and routing either way, so the ratio is the cost of the stack alone."""
    from fastapi import Response

    from src.infrastructure.config.settings import Settings
    from src.main import create_app

    # The limiter runs on every request, but with a bucket large enough that nothing is rejected.
    settings = Settings(_env_file=None, log_level="WARNING", rate_limit_capacity=10**9,  # type: ignore[call-arg]
                        rate_limit_refill_per_s=10**9)
    app = create_app(settings)
    if kind == "bare":
        app.user_middleware.clear()

    @app.get(PATH)
    async def ping() -> Response:
        return Response(b'{"ok":true}', media_type="application/json")

    return app


def serve(kind: str, port: int) -> None:
    import uvicorn

    from src.infrastructure.config.logging import configure_logging

    configure_logging(level="WARNING", fmt="json")
    uvicorn.run(build_app(kind), host="127.0.0.1", port=port, log_config=None, log_level="warning",
                access_log=False, proxy_headers=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(port: int, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(f"GET {PATH} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"bench server on {port} not ready")


def _cpus() -> tuple[set[int], set[int]]:
    """(server CPUs, load generator CPUs)."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if len(cpus) < 2:
        return set(cpus), set(cpus)
    return {cpus[-1]}, set(cpus[:-1])


def _pin(pid: int, cpus: set[int]) -> None:
    if cpus and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(pid, cpus)


def _wrk(url: str, duration_s: float) -> float:
    threads = max(1, len(_cpus()[1]))
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{CONNECTIONS}", f"-d{int(duration_s)}s", url],
        preexec_fn=lambda: _pin(0, _cpus()[1]),
        capture_output=True, text=True, timeout=duration_s + 30, check=True,
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not match or "Non-2xx" in out:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    return float(match.group(1))


_AIOHTTP_LOADGEN = """
import asyncio, sys, time, aiohttp
async def main(url, conns, duration):
    done = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=conns)) as session:
        stop = time.monotonic() + duration
        async def worker():
            nonlocal done
            while time.monotonic() < stop:
                async with session.get(url) as r:
                    await r.read()
                    assert r.status == 200
                done += 1
        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(conns)))
        print(done / (time.monotonic() - started))
asyncio.run(main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3])))
"""


def _aiohttp(url: str, duration_s: float) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _AIOHTTP_LOADGEN, url, str(CONNECTIONS), str(duration_s)],
        preexec_fn=lambda: _pin(0, _cpus()[1]),
        capture_output=True, text=True, timeout=duration_s + 30, check=True,
    ).stdout
    return float(out.strip())


def run() -> dict[str, float]:
    load = _wrk if shutil.which("wrk") else _aiohttp
    servers: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
    try:
        for kind in ("full", "bare"):
            port = _free_port()
            process = subprocess.Popen(
                [sys.executable, "-m", "benchmarks.bench_edge", "serve", kind, str(port)],
                stdout=subprocess.DEVNULL,
            )
            _pin(process.pid, _cpus()[0])
            servers[kind] = (process, f"http://127.0.0.1:{port}{PATH}")
            _wait_ready(port)
        for _, url in servers.values():
            load(url, 1)  # warm up
        rps: dict[str, list[float]] = {"full": [], "bare": []}
        ratios: list[float] = []
        for round_ in range(ROUNDS):
            for kind in ("full", "bare") if round_ % 2 == 0 else ("bare", "full"):
                rps[kind].append(load(servers[kind][1], DURATION_S))
            ratios.append(rps["full"][-1] / rps["bare"][-1])
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=10)
    return {
        "edge_stack_ratio": round(statistics.median(ratios), 3),
        "edge_trivial_rps_with_stack": round(statistics.median(rps["full"]), 1),
        "edge_trivial_rps_bare": round(statistics.median(rps["bare"]), 1),
    }


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]))
    else:
        print(run())
