"""The service as users run it: `python -m src.main` in a process of its own, configured by environment
variables, reached over HTTP; killed, terminated and restarted by the test. Its output goes to a file
(`log`), read when a test fails."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.fixtures.servers import free_port


@dataclass
class ServiceProcess:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    async def healthy(self, within_s: float = 60.0) -> None:
        deadline = time.monotonic() + within_s
        async with httpx.AsyncClient(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the service exited ({self.process.returncode}):\n{self.output[-3000:]}")
                try:
                    if (await client.get(self.url + "/health")).status_code in (200, 503):
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise TimeoutError(f"the service did not answer within {within_s}s:\n{self.output[-3000:]}")

    def kill(self) -> None:
        """SIGKILL, and reap it (a zombie would still look alive)."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    async def terminate(self, within_s: float = 30.0) -> float:
        """SIGTERM; returns how long it took to exit."""
        began = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        while self.process.poll() is None:
            if time.monotonic() - began > within_s:
                self.kill()
                raise TimeoutError(f"the service did not stop within {within_s}s:\n{self.output[-3000:]}")
            await asyncio.sleep(0.02)
        return time.monotonic() - began


def service_env(tmp: Path, **settings: str) -> dict[str, str]:
    """The environment of a service process: the developer's deployment variables removed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONGODB_", "REDIS_", "TRADINGVIEW_"))}
    env.update({"DATA_DIR": str(tmp / "data"), "LOG_FORMAT": "json", "SCHEDULER_ENABLED": "false",
                "RATE_LIMIT_CAPACITY": "100000", "TRADINGVIEW_REQUESTS_PER_S": "1000", **settings})
    return env


def start_service(tmp: Path, name: str, **settings: str) -> ServiceProcess:
    port = free_port()
    log = tmp / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "src.main"], env=service_env(tmp, API_PORT=str(port),
                                   **settings), stdout=out, stderr=subprocess.STDOUT)
    return ServiceProcess(process, port, log)
