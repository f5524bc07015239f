"""`pocketquant export` (CSV and Parquet, streamed with progress) and `pocketquant repair` (a sync with the
repair option). Exported files are compared with the JSON API's bars; whether the server itself offers
Parquet, or the repair option, decides which path is expected."""

import csv
import json
from datetime import UTC, datetime

import httpx
import pyarrow.parquet as pq
import pytest

from src.features.market_data.schemas import OhlcvParams, SyncRequest

pytestmark = pytest.mark.e2e
OHLCV = "/api/v1/market-data/ohlcv/BINANCE/BTCUSDT"
SERVER_HAS_PARQUET = "parquet" in str(OhlcvParams.model_fields["format"].annotation)
SERVER_HAS_REPAIR = "refresh" in SyncRequest.model_fields


async def synced(service, n_bars=600, interval="1m"):
    async with httpx.AsyncClient(base_url=service.url, timeout=30) as client:
        body = {"exchange": "BINANCE", "symbol": "BTCUSDT", "interval": interval, "n_bars": n_bars}
        assert (await client.post("/api/v1/market-data/sync", json=body)).status_code == 200
        return (await client.get(OHLCV, params={"interval": interval, "limit": 100_000})).json()["bars"]


def as_rows(bars):
    return [(b["timestamp"], b["open"], b["high"], b["low"], b["close"], b["volume"], b["partial"]) for b in bars]


async def test_csv_export_holds_every_stored_bar(cli, service, tmp_path):
    bars = await synced(service, n_bars=1_500)  # more than the 1,000 the API answers without a range
    target = tmp_path / "btc.csv"
    result = await cli("export", "BINANCE:BTCUSDT", "-i", "1m", "-o", str(target), "--url", service.url, "--json")
    assert result.exit_code == 0, result.output
    with target.open() as file:
        rows = list(csv.DictReader(file))
    assert [(int(datetime.fromisoformat(r["time"]).timestamp()), float(r["open"]), float(r["high"]), float(r["low"]),
             float(r["close"]), float(r["volume"]), r["partial"] == "true") for r in rows] == as_rows(bars)
    report = json.loads(result.stdout)
    assert (report["rows"], report["bytes"], report["format"]) == (1_500, target.stat().st_size, "csv")
    assert "downloading btc.csv" in result.stderr
    assert not list(tmp_path.glob("*.part"))


async def test_parquet_export_holds_the_same_bars_as_the_api(cli, service, tmp_path):
    bars = await synced(service, n_bars=800, interval="5m")
    target = tmp_path / "btc.parquet"
    result = await cli("export", "BINANCE:BTCUSDT", "-i", "5m", "-F", "parquet", "-o", str(target),
                       "--url", service.url, "--json")
    assert result.exit_code == 0, result.output
    table = pq.read_table(target).to_pylist()
    assert [(int(r["time"].replace(tzinfo=UTC).timestamp()), r["open"], r["high"], r["low"], r["close"], r["volume"],
             r["partial"]) for r in table] == as_rows(bars)
    report = json.loads(result.stdout)
    assert report["rows"] == 800 and report["converted_locally"] is not SERVER_HAS_PARQUET
    if not SERVER_HAS_PARQUET:
        assert "converting to btc.parquet" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["btc.parquet"]


async def test_export_narrowed_by_limit_keeps_the_newest_bars(cli, service, tmp_path):
    bars = await synced(service, n_bars=300)
    target = tmp_path / "newest.csv"
    result = await cli("export", "BINANCE:BTCUSDT", "-i", "1m", "--limit", "25", "-o", str(target),
                       "--url", service.url)
    assert result.exit_code == 0, result.output
    with target.open() as file:
        times = [int(datetime.fromisoformat(r["time"]).timestamp()) for r in csv.DictReader(file)]
    assert times == [b["timestamp"] for b in bars[-25:]]
    assert "wrote 25 bars" in result.stdout


async def test_export_refused_by_the_server_exits_2_and_leaves_no_file(cli, service, tmp_path):
    target = tmp_path / "x.csv"
    result = await cli("export", "BINANCE:BTCUSDT", "--source", "nosuchsource", "-o", str(target),
                       "--url", service.url, "--json")
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert report["status"] == 422 and "source" in report["error"]
    assert not list(tmp_path.iterdir())


async def test_repair_sends_the_repair_option_or_says_clearly_that_the_server_refuses_it(cli, service, tv_simulator):
    await synced(service, n_bars=200)
    result = await cli("repair", "BINANCE:BTCUSDT", "-i", "1m", "-n", "200", "--url", service.url, "--json")
    report = json.loads(result.stdout)
    if SERVER_HAS_REPAIR:
        assert result.exit_code == 0, result.output
        assert report["series"][0]["bars_fetched"] == 200
    else:
        assert result.exit_code == 2
        assert "does not support repair" in report["error"] and "refresh" in report["error"]
        assert report["status"] == 422


async def test_in_process_repair_needs_a_sync_that_takes_the_option(cli, service):
    from src.cli.in_process import repair_supported

    result = await cli("repair", "BINANCE:BTCUSDT", "-i", "1m", "-n", "50", "--in-process", "--json",
                       env=service.env())
    if repair_supported():
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code == 2 and "no repair option" in json.loads(result.stdout)["error"]
