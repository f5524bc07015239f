"""`pocketquant status` and `pocketquant symbols track|untrack|search|list` against the served service,
checked against what the API itself answers and what the simulator lists."""

import json

import httpx
import pytest

pytestmark = pytest.mark.e2e


async def api_get(service, path, **params):
    async with httpx.AsyncClient(base_url=service.url, timeout=30) as client:
        return (await client.get(path, params=params)).json()


async def test_status_lists_every_synced_series_with_its_coverage(cli, service):
    for args in (("BINANCE:BTCUSDT", "-i", "1m", "-n", "400"), ("BINANCE:ETHUSDT", "-i", "1h", "-n", "120")):
        assert (await cli("sync", *args, "--url", service.url)).exit_code == 0
    result = await cli("status", "--url", service.url)
    assert result.exit_code == 0, result.output
    assert "BINANCE:BTCUSDT" in result.stdout and "BINANCE:ETHUSDT" in result.stdout
    assert "400" in result.stdout and "120" in result.stdout and "2 series, 2 completed" in result.stdout
    as_json = json.loads((await cli("status", "--url", service.url, "--json")).stdout)
    assert as_json == await api_get(service, "/api/v1/market-data/sync-status")
    only_hourly = json.loads((await cli("status", "-i", "1h", "--url", service.url, "--json")).stdout)
    assert [(s["symbol"], s["coverage"]["bar_count"]) for s in only_hourly] == [("ETHUSDT", 120)]


async def test_a_failed_sync_shows_in_status_with_its_error(cli, service):
    assert (await cli("sync", "BINANCE:NOPE", "-i", "1m", "--url", service.url)).exit_code == 2
    [row] = json.loads((await cli("status", "--status", "error", "--url", service.url, "--json")).stdout)
    assert (row["symbol"], row["status"]) == ("NOPE", "error") and row["error"]


async def test_track_untrack_and_list_symbols(cli, service):
    tracked = await cli("symbols", "track", "BINANCE:BTCUSDT", "-i", "1m", "-i", "1d", "--url", service.url)
    assert tracked.exit_code == 0, tracked.output
    assert "tracking tradingview BINANCE:BTCUSDT at 1m 1d" in tracked.stdout
    assert "syncing 1m 1d now" in tracked.stdout
    listed = json.loads((await cli("symbols", "list", "--url", service.url, "--json")).stdout)
    assert [(s["symbol"], s["intervals"]) for s in listed] == [("BTCUSDT", ["1m", "1d"])]
    partly = await cli("symbols", "untrack", "BINANCE:BTCUSDT", "-i", "1m", "--url", service.url, "--json")
    assert json.loads(partly.stdout)["intervals"] == ["1d"]
    whole = await cli("symbols", "untrack", "BINANCE:BTCUSDT", "--url", service.url)
    assert whole.exit_code == 0 and "no longer tracking tradingview BINANCE:BTCUSDT" in whole.stdout
    assert await api_get(service, "/api/v1/market-data/symbols") == []
    again = await cli("symbols", "untrack", "BINANCE:BTCUSDT", "--url", service.url, "--json")
    assert again.exit_code == 2 and json.loads(again.stdout)["status"] == 404


async def test_tracking_an_unknown_symbol_is_a_problem_reported_by_the_server(cli, service):
    result = await cli("symbols", "track", "BINANCE:NOPE", "--url", service.url)
    assert result.exit_code == 2
    assert "404" in result.stderr


async def test_search_shows_the_sources_matches(cli, service):
    result = await cli("symbols", "search", "BTC", "--url", service.url)
    assert result.exit_code == 0, result.output
    matches = json.loads((await cli("symbols", "search", "BTC", "--url", service.url, "--json")).stdout)
    assert matches == await api_get(service, "/api/v1/market-data/symbols/search", q="BTC")
    assert matches and all(f"{m['exchange']}:{m['symbol']}" in result.stdout for m in matches)


async def test_an_unknown_subcommand_or_a_symbol_without_exchange_is_a_usage_error(cli):
    assert (await cli("symbols", "forget", "X:Y")).exit_code == 1
    assert (await cli("symbols", "track", "NOCOLON")).exit_code == 1
