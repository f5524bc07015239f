"""The local topology: the embedded store as its own process (`pocketquant store`), and two service
processes sharing it exactly as they would share MongoDB. A sync served by one is read through the other."""

import asyncio
import json
import subprocess

import httpx
import pytest

from src.domain.market_data import Interval
from tests.cli.processes import POCKETQUANT, clean_env, start, stop, wait_until_serving
from tests.fixtures.servers import free_port, wait_for_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


async def test_two_service_processes_share_one_store_process(tmp_path, tv_simulator):
    store_port, first_port, second_port = free_port(), free_port(), free_port()
    store = start("store", "--data-dir", str(tmp_path / "store"), "--port", str(store_port),
                  env=clean_env(tmp_path), stderr=subprocess.PIPE)
    services = []
    try:
        wait_for_port(store_port, timeout=20)
        env = clean_env(
            tmp_path, MONGODB_URL=f"mongodb://127.0.0.1:{store_port}/?directConnection=true",
            MONGODB_DATABASE="shared", MONGODB_COLLECTION_PER_SERIES="true", TRADINGVIEW_WS_URL=tv_simulator.ws_url,
            TRADINGVIEW_SEARCH_URL=tv_simulator.search_url, TRADINGVIEW_SIGNIN_URL=tv_simulator.signin_url,
            TRADINGVIEW_REQUESTS_PER_S="1000",
        )
        services = [start("serve", "--roles", "api,scheduler", "--port", str(first_port), env=env),
                    start("serve", "--roles", "api", "--port", str(second_port), env=env)]
        first, second = f"http://127.0.0.1:{first_port}", f"http://127.0.0.1:{second_port}"
        await asyncio.gather(*(asyncio.to_thread(wait_until_serving, f"{url}/health", process)
                               for url, process in zip((first, second), services, strict=True)))
        async with httpx.AsyncClient(timeout=30) as client:
            body = {"exchange": "BINANCE", "symbol": "BTCUSDT", "interval": "1m", "n_bars": 500}
            synced = await client.post(f"{first}/api/v1/market-data/sync", json=body)
            assert synced.status_code == 200, synced.text
            read = (await client.get(f"{second}/api/v1/market-data/ohlcv/BINANCE/BTCUSDT",
                                     params={"interval": "1m", "limit": 1000})).json()
        upstream = tv_simulator.market.history("BINANCE:BTCUSDT", Interval.M1)[-500:]
        assert [b["timestamp"] for b in read["bars"]] == [int(row[0]) for row in upstream]
        status = await asyncio.to_thread(subprocess.run, [POCKETQUANT, "status", "--url", second, "--json"],
                                         capture_output=True, text=True, timeout=60)
        [series] = json.loads(status.stdout)
        assert (series["status"], series["coverage"]["bar_count"]) == ("completed", 500)
    finally:
        outputs = [stop(process) for process in services]
        store_code, _ = stop(store)
    assert all(code in (0, -15) for code, _ in outputs), outputs
    assert store_code == 0
