"""Real `pocketquant` processes for the tests: started with a clean environment, waited for, stopped."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

POCKETQUANT = str(Path(sys.executable).parent / "pocketquant")  # the console script `make install` installs


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No deployment settings of the developer's; TradingView at a closed local port unless given."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MONGODB_", "REDIS_", "TRADINGVIEW_", "ROLES", "API_", "PQ_"))}
    env.update(DATA_DIR=str(tmp_path / "data"), LOG_FORMAT="json",
               TRADINGVIEW_WS_URL="ws://127.0.0.1:9/socket.io/websocket",
               TRADINGVIEW_SEARCH_URL="http://127.0.0.1:9/symbol_search/v3/")
    env.update(extra)
    return env


def start(*args: str, env: dict[str, str], stderr: int = subprocess.STDOUT) -> subprocess.Popen[str]:
    """`stderr=subprocess.PIPE` keeps stdout to the command's own output (for `--json`)."""
    return subprocess.Popen([POCKETQUANT, *args], env=env, stdout=subprocess.PIPE, stderr=stderr, text=True)


def wait_until_serving(url: str, process: subprocess.Popen[str], timeout_s: float = 40.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{process.args} exited {process.returncode}: {process.stdout.read()}")  # type: ignore[union-attr]
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"nothing answered at {url} within {timeout_s}s")


def stop(process: subprocess.Popen[str], timeout_s: float = 30.0) -> tuple[int, str]:
    """SIGTERM, as an orchestrator stops a process; returns its exit code and output."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=timeout_s)
    return process.returncode, output
