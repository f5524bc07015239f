"""`python -m simulators.binance` and `python -m simulators.yahoo` start, serve and take fault switches."""

import subprocess
import sys
import urllib.request

import pytest

from tests.fixtures.servers import free_port, wait_for_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@pytest.mark.parametrize(("module", "path", "switch"), [
    ("simulators.binance", "/api/v3/time", ["--weight-limit", "1200", "--unknown-symbols", "ETHUSDT"]),
    ("simulators.yahoo", "/v8/finance/chart/AAPL?range=5d&interval=1d", ["--rate-limit", "100", "--no-hang"]),
])
def test_the_simulator_runs_from_the_command_line(module, path, switch):
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", module, "--host", "127.0.0.1", "--port", str(port), *switch],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, timeout=20)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            assert response.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_sim/faults", timeout=10) as response:
            faults = response.read().decode()
        assert ('"weight_limit": 1200' in faults and '"ETHUSDT"' in faults) or '"rate_limit": 100' in faults
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_tradingview_simulator_takes_every_fault_switch_and_market_option_from_the_command_line():
    port = free_port()
    switches = ["--no-heartbeats", "--close-after-unanswered", "0", "--unknown-symbols", "BINANCE:ETHUSDT",
                "--tick-rate", "0", "--hole-rate", "0.01", "--delayed", "BINANCE:BTCUSDT=900", "--max-bars", "100",
                "--history-bars", "300", "--resolve-latency", "0"]
    process = subprocess.Popen([sys.executable, "-m", "simulators.tradingview", "--host", "127.0.0.1",
                                "--port", str(port), *switches], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, timeout=20)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/symbol_search/v3/?text=BTC", timeout=10) as response:
            assert response.status == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
    from simulators.tradingview.__main__ import build, parse_args

    sim = build(parse_args(switches))
    assert (sim.faults.heartbeats, sim.faults.close_after_unanswered, sim.faults.unknown_symbols) == (
        False, 0, {"BINANCE:ETHUSDT"})
    assert sim.market.specs["BINANCE:BTCUSDT"].delay == 900 and sim.max_bars_per_request == 100
    assert sim.market.hole_rate == 0.01 and sim.resolve_latency == 0
