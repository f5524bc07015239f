"""The HTTP load harness shared by the benches that measure requests/s of a served app.

- `start_app(settings)` runs `create_app(Settings(**settings))` under uvicorn in its own process
  (`benchmarks/_serve_app.py`), pinned to the server CPU, and waits until it answers `TRIVIAL_PATH`.
- `load(url, seconds)` drives a URL with `wrk` at `CONNECTIONS` connections from the load-generator CPUs
  (an aiohttp generator in a subprocess when wrk is missing) and returns requests/s and, asked for, the
  99th percentile latency.
- With two or more CPUs the servers get one CPU and the load generator the others, so they never
  compete for a core; with one CPU both run where they can.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

CONNECTIONS = 32
TRIVIAL_PATH = "/bench/ping"  # a constant response mounted by `_serve_app` on the app it builds


@dataclass(frozen=True)
class LoadResult:
    rps: float
    p99_ms: float | None = None  # only when asked for


@dataclass
class ServedApp:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, timeout_s: float = 15) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def cpu_seconds(app: ServedApp) -> float:
    """User + system CPU seconds a served app's process has used (Linux /proc). Requests/s swing with what
    else runs on a shared machine; the CPU a request costs the server does not."""
    with open(f"/proc/{app.process.pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpus() -> tuple[set[int], set[int]]:
    """(server CPUs, load generator CPUs)."""
    available = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if len(available) < 2:
        return set(available), set(available)
    return {available[-1]}, set(available[:-1])


def pin(pid: int, to: set[int]) -> None:
    if to and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(pid, to)


def wait_ready(port: int, path: str = TRIVIAL_PATH, timeout_s: float = 30,
               process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"bench server on {port} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"bench server on {port} not ready after {timeout_s}s")


def start_app(settings: dict[str, Any], *, bare: bool = False, ready_timeout_s: float = 30) -> ServedApp:
    """The app in a uvicorn process of its own on a free port, pinned to the server CPU, answering."""
    port = free_port()
    command = [sys.executable, "-m", "benchmarks._serve_app", "--port", str(port), "--settings", json.dumps(settings)]
    if bare:
        command.append("--bare")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    served = ServedApp(process, port)
    try:
        pin(process.pid, cpus()[0])
        wait_ready(port, timeout_s=ready_timeout_s, process=process)
    except BaseException:
        served.stop()
        raise
    return served


@contextmanager
def serving(*settings: dict[str, Any], bare: tuple[bool, ...] = ()) -> Iterator[list[ServedApp]]:
    """Start one app per settings dict (in order); stop all of them on the way out, whatever happens.
    Apps without a store of their own get an embedded one in a temporary directory, never `./data`."""
    apps: list[ServedApp] = []
    with tempfile.TemporaryDirectory(prefix="pq-bench-") as scratch:
        try:
            for i, values in enumerate(settings):
                with_store = {"data_dir": f"{scratch}/data-{i}", **values}
                apps.append(start_app(with_store, bare=bare[i] if i < len(bare) else False))
            yield apps
        finally:
            for app in reversed(apps):
                app.stop()


# --- load generators -------------------------------------------------------------------------------------

_UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _wrk(url: str, duration_s: float, latency: bool, headers: dict[str, str]) -> LoadResult:
    threads = max(1, len(cpus()[1]))
    command = ["wrk", f"-t{threads}", f"-c{CONNECTIONS}", f"-d{max(1, round(duration_s))}s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    if latency:
        command.append("--latency")
    out = subprocess.run(
        [*command, url], preexec_fn=lambda: pin(0, cpus()[1]),
        capture_output=True, text=True, timeout=duration_s + 30, check=True,
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not match or "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"unexpected wrk output for {url}:\n{out}")
    p99 = None
    if latency:
        found = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.MULTILINE)
        if not found:
            raise RuntimeError(f"no latency distribution in wrk output:\n{out}")
        p99 = float(found.group(1)) * _UNIT_MS[found.group(2)]
    return LoadResult(float(match.group(1)), p99)


_AIOHTTP_LOADGEN = """
import asyncio, json, sys, time, aiohttp
async def main(url, conns, duration, headers):
    latencies = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=conns), headers=headers) as session:
        stop = time.monotonic() + duration
        async def worker():
            while time.monotonic() < stop:
                sent = time.perf_counter()
                async with session.get(url) as r:
                    await r.read()
                    assert r.status == 200, r.status
                latencies.append(time.perf_counter() - sent)
        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(conns)))
        elapsed = time.monotonic() - started
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000 if latencies else None
    print(json.dumps({"rps": len(latencies) / elapsed, "p99_ms": p99}))
asyncio.run(main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), json.loads(sys.argv[4])))
"""


def _aiohttp(url: str, duration_s: float, latency: bool, headers: dict[str, str]) -> LoadResult:
    out = subprocess.run(
        [sys.executable, "-c", _AIOHTTP_LOADGEN, url, str(CONNECTIONS), str(duration_s), json.dumps(headers)],
        preexec_fn=lambda: pin(0, cpus()[1]),
        capture_output=True, text=True, timeout=duration_s + 30, check=True,
    ).stdout
    figures = json.loads(out)
    return LoadResult(float(figures["rps"]), figures["p99_ms"] if latency else None)


def generator() -> str:
    """Which load generator `load` uses: "wrk", or "aiohttp" when wrk is not installed."""
    return "wrk" if shutil.which("wrk") else "aiohttp"


def load(url: str, duration_s: float, *, latency: bool = False, headers: dict[str, str] | None = None) -> LoadResult:
    """Requests/s (and p99 latency in ms when `latency`) of GET `url` at `CONNECTIONS` connections, each
    request with `headers`."""
    return (_wrk if generator() == "wrk" else _aiohttp)(url, duration_s, latency, headers or {})
