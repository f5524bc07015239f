"""The long-running commands as real processes: `serve --roles`, `store`, `simulator`, and the console script
itself (the smoke test of the installed `pocketquant`)."""

import json
import signal
import subprocess

import httpx
import pytest
from pymongo import MongoClient

from tests.cli.processes import POCKETQUANT, clean_env, start, stop, wait_until_serving
from tests.fixtures.servers import free_port, wait_for_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]
STOPPED = (0, -signal.SIGTERM)  # uvicorn re-raises SIGTERM after a graceful shutdown, as a server should


def test_the_installed_console_script_answers_help_and_reports_an_unreachable_service():
    helped = subprocess.run([POCKETQUANT, "--help"], capture_output=True, text=True, timeout=60)
    assert helped.returncode == 0
    for command in ("serve", "store", "simulator", "sync", "repair", "export", "status", "symbols"):
        assert command in helped.stdout
    status = subprocess.run([POCKETQUANT, "status", "--url", "http://127.0.0.1:9", "--json"],
                            capture_output=True, text=True, timeout=60)
    assert status.returncode == 3 and json.loads(status.stdout)["ok"] is False


def test_serve_with_the_scheduler_role_alone_serves_only_operations_and_runs_the_jobs(tmp_path):
    port = free_port()
    process = start("serve", "--roles", "scheduler", "--port", str(port), env=clean_env(tmp_path))
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(f"{url}/health", process)
        health = httpx.get(f"{url}/health", timeout=10).json()
        assert "scheduler" in health["components"] and health["status"] == "ok"
        assert httpx.get(f"{url}/metrics", timeout=10).status_code == 200
        jobs = httpx.get(f"{url}/api/v1/jobs", timeout=10).json()
        assert jobs and all(job["next_run"] for job in jobs)
        assert httpx.get(f"{url}/api/v1/market-data/sync-status", timeout=10).status_code == 404
    finally:
        code, output = stop(process)
    assert code in STOPPED, output
    assert '"roles": ["scheduler"]' in output


def test_serve_with_the_api_role_serves_the_api_without_running_the_jobs(tmp_path):
    port = free_port()
    process = start("serve", "--roles", "api", "--port", str(port), env=clean_env(tmp_path))
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(f"{url}/health", process)
        assert "scheduler" not in httpx.get(f"{url}/health", timeout=10).json()["components"]
        assert httpx.get(f"{url}/api/v1/market-data/sync-status", timeout=10).json() == []
        assert all(job["next_run"] is None for job in httpx.get(f"{url}/api/v1/jobs", timeout=10).json())
    finally:
        code, output = stop(process)
    assert code in STOPPED, output


def test_serve_with_an_unknown_role_is_a_usage_error_naming_roles(tmp_path):
    result = subprocess.run([POCKETQUANT, "serve", "--roles", "api,cook"], env=clean_env(tmp_path),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "ROLES" in result.stderr and "cook" in result.stderr


def test_serve_on_a_port_in_use_exits_2(tmp_path):
    port = free_port()
    store = start("store", "--data-dir", str(tmp_path / "store"), "--port", str(port), env=clean_env(tmp_path))
    try:
        wait_for_port(port, timeout=20)
        result = subprocess.run([POCKETQUANT, "serve", "--port", str(port)], env=clean_env(tmp_path),
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 2, result.stdout + result.stderr
        assert "the service did not start" in result.stderr
    finally:
        stop(store)


def test_the_store_runs_as_its_own_process_and_keeps_its_data_across_restarts(tmp_path):
    port = free_port()
    args = ("store", "--data-dir", str(tmp_path / "store"), "--port", str(port), "--json")
    process = start(*args, env=clean_env(tmp_path), stderr=subprocess.PIPE)
    try:
        announced = json.loads(process.stdout.readline())  # type: ignore[union-attr]
        assert announced["uri"] == f"mongodb://127.0.0.1:{port}/?directConnection=true"
        with MongoClient(announced["uri"], serverSelectionTimeoutMS=5_000) as client:
            client.shared.things.insert_one({"_id": 1, "written_by": "process one"})
    finally:
        code, output = stop(process)
    assert code == 0, output
    process = start(*args, env=clean_env(tmp_path))
    try:
        wait_for_port(port, timeout=20)
        with MongoClient(f"mongodb://127.0.0.1:{port}/?directConnection=true", serverSelectionTimeoutMS=5_000) as c:
            assert c.shared.things.find_one({"_id": 1}) == {"_id": 1, "written_by": "process one"}
    finally:
        assert stop(process)[0] == 0


def test_the_store_on_a_port_in_use_exits_2_saying_so(tmp_path):
    port = free_port()
    first = start("store", "--data-dir", str(tmp_path / "a"), "--port", str(port), env=clean_env(tmp_path))
    try:
        wait_for_port(port, timeout=20)
        second = subprocess.run([POCKETQUANT, "store", "--data-dir", str(tmp_path / "b"), "--port", str(port)],
                                env=clean_env(tmp_path), capture_output=True, text=True, timeout=60)
        assert second.returncode == 2
        assert f"cannot listen on 127.0.0.1:{port}" in second.stderr
    finally:
        stop(first)


@pytest.mark.parametrize(("source", "path", "switches", "expected"), [
    ("binance", "/api/v3/time", ["--weight-limit", "1200"], '"weight_limit": 1200'),
    ("yahoo", "/v8/finance/chart/AAPL?range=5d&interval=1d", ["--rate-limit", "100"], '"rate_limit": 100'),
])
def test_the_simulator_command_runs_a_source_with_its_fault_switches(tmp_path, source, path, switches, expected):
    port = free_port()
    process = start("simulator", "--source", source, "--port", str(port), *switches, env=clean_env(tmp_path))
    try:
        wait_until_serving(f"http://127.0.0.1:{port}{path}", process)
        assert httpx.get(f"http://127.0.0.1:{port}{path}", timeout=10).status_code == 200
        assert expected in httpx.get(f"http://127.0.0.1:{port}/_sim/faults", timeout=10).text
    finally:
        code, output = stop(process)
    assert code == 0, output
    with pytest.raises(httpx.TransportError):  # the simulator went with the command
        httpx.get(f"http://127.0.0.1:{port}{path}", timeout=2)


def test_the_simulator_command_runs_the_tradingview_simulator_by_default(tmp_path):
    port = free_port()
    process = start("simulator", "--port", str(port), env=clean_env(tmp_path))
    try:
        wait_for_port(port, timeout=30)
        search = httpx.get(f"http://127.0.0.1:{port}/symbol_search/v3/", params={"text": "BTC"}, timeout=10)
        assert search.status_code == 200 and "BTCUSDT" in search.text
    finally:
        code, output = stop(process)
    assert code == 0 and f"ws://127.0.0.1:{port}/socket.io/websocket" in output, output
