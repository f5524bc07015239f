"""A large streamed download keeps the process within about twice its payload.

The store is written first, by this test; then a fresh process (so nothing from the writing is counted)
serves it, warms up with a small download, and downloads every bar as Arrow and as Parquet through HTTP
from itself, sampling its resident memory (VmRSS) every few milliseconds. The growth over the warm
baseline is compared with the payload's size."""

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from src.domain.market_data import BarColumns, Interval, SeriesKey, Symbol
from src.infrastructure.mongo.connection import MongoStore
from src.infrastructure.mongo.ohlcv_repository import MongoOHLCVRepository

pytestmark = pytest.mark.e2e
KEY = SeriesKey(Symbol("BINANCE", "BTCUSDT"), Interval.M1, "tradingview")
BARS = 600_000
T0 = 1_577_836_800  # 2020-01-01

CHILD = r"""
import json, sys, threading, time
import httpx
from src.app.http import create_app
from src.common.settings import Settings
from tests.fixtures.http_server import ServedApp

def rss() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS"))

server = ServedApp(create_app(Settings(_env_file=None, data_dir=sys.argv[1], scheduler_enabled=False)))
url = server.url + "/api/v1/market-data/ohlcv/BINANCE/BTCUSDT"
figures = {}
with httpx.Client(timeout=120) as client:
    for form in ("arrow", "parquet"):
        client.get(url, params={"interval": "1m", "limit": 60_000, "format": form}).raise_for_status()  # warm
        baseline, peak, payload, done = rss(), [0], 0, threading.Event()
        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], rss())
                time.sleep(0.002)
        sampler = threading.Thread(target=sample)
        sampler.start()
        with client.stream("GET", url, params={"interval": "1m", "start": 0, "format": form}) as response:
            for chunk in response.iter_bytes():
                payload += len(chunk)
        done.set()
        sampler.join()
        figures[form] = {"growth": peak[0] - baseline, "payload": payload}
server.stop()
print(json.dumps(figures))
"""


async def write_store(directory: Path) -> None:
    store = MongoStore(None, data_dir=directory)
    repo = MongoOHLCVRepository(await store.start())
    rng = np.random.default_rng(3)
    for first in range(0, BARS, 50_000):
        times = T0 + 60 * np.arange(first, first + 50_000, dtype=np.int64)
        close = 100 + rng.random(times.size)
        await repo.upsert(KEY, BarColumns.of(KEY, times, close, close + 1, close - 1, close, rng.random(times.size),
                                             rng.random(times.size) < 0.01))
    await store.stop()


def serve_and_download(data_dir: Path) -> subprocess.CompletedProcess[str]:
    root = Path(__file__).resolve().parents[2]
    return subprocess.run([sys.executable, "-c", CHILD, str(data_dir)], cwd=root, capture_output=True, text=True,
                          timeout=240)


async def test_a_large_arrow_or_parquet_download_grows_the_process_by_less_than_twice_its_payload(tmp_path):
    await write_store(tmp_path)
    done = await asyncio.to_thread(serve_and_download, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["arrow"]["payload"] > 0.8 * BARS * 49  # every bar came: 49 bytes each, uncompressed
    for form, seen in figures.items():
        assert seen["growth"] < 2 * seen["payload"], (form, seen)
