"""`make run`'s entry point as a user starts it: a real process, real port, clean shutdown."""

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from tests.fixtures.servers import free_port

pytestmark = pytest.mark.e2e


def _env(tmp_path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONGODB_", "REDIS_", "TRADINGVIEW_"))}
    env.update(
        DATA_DIR=str(tmp_path / "data"),
        # Never reach the internet from a test: TradingView points at a closed local port.
        TRADINGVIEW_WS_URL="ws://127.0.0.1:9/socket.io/websocket",
        TRADINGVIEW_SEARCH_URL="http://127.0.0.1:9/symbol_search/v3/",
        LOG_FORMAT="json",
        **extra,
    )
    return env


def test_the_service_serves_health_and_docs_then_stops_cleanly(tmp_path):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "src.main"], env=_env(tmp_path, API_PORT=str(port)),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        health = None
        while time.monotonic() < deadline:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert health is not None and health.status_code == 200, health and health.text
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/docs", timeout=5).status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    # uvicorn shuts down gracefully, then re-raises SIGTERM to the default handler, as a server should.
    assert process.returncode in (0, -signal.SIGTERM), output
    assert '"event": "pocketquant stopped"' in output
    assert '"store": "embedded"' in output or "embedded" in output
    assert (tmp_path / "data").exists()


def test_an_invalid_setting_stops_the_start_with_one_line_naming_it(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "src.main"], env=_env(tmp_path, API_PORT="eighty"),
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "API_PORT" in lines[0], result.stderr
