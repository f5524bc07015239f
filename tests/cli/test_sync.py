"""`pocketquant sync`: one series or a file of them, through the API or in-process, with progress; each
result checked against the simulator's own bars (the upstream), not against the command's output."""

import json
from datetime import UTC, datetime

import httpx
import pytest

from src.domain.market_data import Interval

pytestmark = pytest.mark.e2e
OHLCV = "/api/v1/market-data/ohlcv/BINANCE/BTCUSDT"


def upstream(tv_simulator, ticker="BINANCE:BTCUSDT", interval=Interval.M1):
    return tv_simulator.market.history(ticker, interval)


async def stored(service, path=OHLCV, interval="1m"):
    async with httpx.AsyncClient(base_url=service.url, timeout=30) as client:
        return (await client.get(path, params={"interval": interval, "limit": 100_000})).json()


async def test_syncing_one_series_stores_the_upstream_bars_and_shows_progress(cli, service, tv_simulator):
    result = await cli("sync", "BINANCE:BTCUSDT", "-i", "1m", "-n", "700", "--url", service.url)
    assert result.exit_code == 0, result.output
    body = await stored(service)
    assert [b["timestamp"] for b in body["bars"]] == [int(r[0]) for r in upstream(tv_simulator)[-700:]]
    assert "syncing 1 series" in result.stderr and "100%" in result.stderr
    assert "700 bars" in result.stderr and "bars/s" in result.stderr
    assert "tradingview BINANCE:BTCUSDT 1m" in result.stdout and "1 synced, 0 failed" in result.stdout


async def test_json_output_reports_each_series_for_scripts(cli, service, tv_simulator):
    result = await cli("sync", "BINANCE:BTCUSDT", "-i", "1h", "-n", "300", "--url", service.url, "--json",
                       "--no-progress")
    assert result.exit_code == 0, result.output
    assert "syncing" not in result.stderr
    report = json.loads(result.stdout)
    rows = upstream(tv_simulator, interval=Interval.H1)[-300:]
    [series] = report["series"]
    assert report["ok"] is True and report["bars_fetched"] == 300
    assert (series["exchange"], series["symbol"], series["interval"], series["source"]) == (
        "BINANCE", "BTCUSDT", "1h", "tradingview")
    assert (series["bars_fetched"], series["bars_written"], series["ok"]) == (300, 300, True)
    assert datetime.fromisoformat(series["last_bar_time"]) == datetime.fromtimestamp(int(rows[-1][0]), UTC)
    assert (await stored(service, interval="1h"))["bars"][-1]["timestamp"] == int(rows[-1][0])


async def test_a_file_of_csv_and_json_lines_syncs_every_series_and_isolates_failures(cli, service, tv_simulator,
                                                                                   tmp_path):
    series_file = tmp_path / "series.txt"
    series_file.write_text(
        "source,exchange,symbol,interval,n_bars\n"
        "tradingview,BINANCE,BTCUSDT,1m,400\n"
        "# a comment, then a JSON line without source or n_bars (the defaults)\n"
        '{"exchange": "BINANCE", "symbol": "ETHUSDT", "interval": "5m"}\n'
        ",BINANCE,NOPE,1m,10\n"
    )
    result = await cli("sync", "--file", str(series_file), "--bars", "250", "-c", "2", "--url", service.url, "--json")
    assert result.exit_code == 2, result.output  # one series failed: a problem, reported with the others
    by_symbol = {s["symbol"]: s for s in json.loads(result.stdout)["series"]}
    assert by_symbol["BTCUSDT"]["bars_written"] == 400 and by_symbol["ETHUSDT"]["bars_written"] == 250
    assert by_symbol["NOPE"]["ok"] is False and "404" in by_symbol["NOPE"]["error"]
    eth = await stored(service, "/api/v1/market-data/ohlcv/BINANCE/ETHUSDT", "5m")
    assert [b["timestamp"] for b in eth["bars"]] == [
        int(r[0]) for r in upstream(tv_simulator, "BINANCE:ETHUSDT", Interval.M5)[-250:]]
    assert "syncing 3 series" in result.stderr


async def test_in_process_sync_builds_the_service_through_the_root_without_http(cli, service, tv_simulator):
    result = await cli("sync", "BINANCE:BTCUSDT", "-i", "15m", "-n", "350", "--in-process", "--json",
                       env=service.env())
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["series"][0]["bars_written"] == 350
    # Written by the command's own root into the shared database: the served service reads the same bars.
    body = await stored(service, interval="15m")
    assert [b["timestamp"] for b in body["bars"]] == [
        int(r[0]) for r in upstream(tv_simulator, interval=Interval.M15)[-350:]]


async def test_an_unreachable_service_exits_3_and_says_where_it_looked(cli):
    result = await cli("sync", "BINANCE:BTCUSDT", "--url", "http://127.0.0.1:9", "--json")
    assert result.exit_code == 3
    report = json.loads(result.stdout)
    assert (report["ok"], report["exit_code"], report["url"]) == (False, 3, "http://127.0.0.1:9")
    assert "cannot reach the service at http://127.0.0.1:9" in report["error"]


@pytest.mark.parametrize("args", [
    ("sync",),                                              # neither a series nor a file
    ("sync", "BTCUSDT"),                                    # no exchange
    ("sync", "BINANCE:BTCUSDT", "-i", "60"),                # a provider's code, not one of the 13 intervals
    ("sync", "BINANCE:BTCUSDT", "-n", "0"),
    ("sync", "BINANCE:BTCUSDT", "--no-such-option"),
])
async def test_usage_errors_exit_1_without_calling_the_service(cli, args):
    result = await cli(*args, "--url", "http://127.0.0.1:9")
    assert result.exit_code == 1, result.output


async def test_a_bad_line_in_the_series_file_is_a_usage_error_naming_the_line(cli, tmp_path):
    series_file = tmp_path / "series.csv"
    series_file.write_text("tradingview,BINANCE,BTCUSDT,1m,400\ntradingview,BINANCE,BTCUSDT,7m,400\n")
    result = await cli("sync", "-f", str(series_file), "--url", "http://127.0.0.1:9")
    assert result.exit_code == 1
    assert f"{series_file}:2" in result.stderr and "7m" in result.stderr
