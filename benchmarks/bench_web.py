"""Web app figures (issue 21), measured in Debian's Chromium driven by Playwright.

- `web_chart_5000_ready_ms`: from navigation start to the chart drawn with 5,000 bars, read in the browser
  from the Performance API (the `pq-chart-ready` mark the chart sets on the frame after its first
  `setData`, whose `startTime` counts from the navigation's start). Each load is a fresh browser context
  (nothing cached: the app's files, the page and the 5,000 bars all come over HTTP); the median of
  `LOADS` loads. The service runs as `make run` runs it (its own uvicorn process, embedded store) with
  5,000 one-minute bars synced from the TradingView simulator beforehand. Target: <= 1,000 ms.
- `web_js_gzip_kb`: the app's JavaScript as a browser downloads it gzip-compressed (level 9), in KiB.

Without Chromium, Playwright or a built app (Node.js builds it: `make web`) there is nothing to measure:
the module returns no figure. A missing or stale build is built first when Node.js is available.
"""

import asyncio
import gzip
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

import httpx

from benchmarks._load import serving
from benchmarks.bench_market_data import SimulatorThread
from src.app.web import WEB_DIST
from tests.e2e.web.browser import CHROMIUM, CHROMIUM_ARGS, missing_for_browser_tests

LOADS = 7
BARS = 5_000
CHART = "/#/chart?symbol=BINANCE%3ABTCUSDT&source=tradingview&interval=1m"
READY = "() => performance.getEntriesByName('pq-chart-ready').length > 0"
MARK = "() => { const m = performance.getEntriesByName('pq-chart-ready')[0]; return [m.startTime, m.detail.bars]; }"


def _ready_to_measure() -> bool:
    """Chromium, Playwright and a current build (built first when Node.js can)."""
    if shutil.which("npm") is not None:
        subprocess.run(["make", "--no-print-directory", "web"], cwd=WEB_DIST.parents[1], check=True,
                       stdout=subprocess.DEVNULL)
    return missing_for_browser_tests() is None


def js_gzip_kb() -> float:
    scripts = sorted((WEB_DIST / "assets").glob("*.js"))
    return round(sum(len(gzip.compress(p.read_bytes(), compresslevel=9)) for p in scripts) / 1024, 1)


async def _ready_ms(base_url: str) -> list[float]:
    from playwright.async_api import async_playwright

    times: list[float] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for _ in range(LOADS):
                context = await browser.new_context(viewport={"width": 1400, "height": 850})
                page = await context.new_page()
                await page.goto(base_url + CHART)
                await page.wait_for_function(READY, timeout=30_000)
                started_ms, bars = await page.evaluate(MARK)
                if bars != BARS:
                    raise RuntimeError(f"the chart drew {bars} bars, not {BARS}")
                times.append(started_ms)
                await context.close()
        finally:
            await browser.close()
    return times


def chart_ready_ms() -> float:
    simulator = SimulatorThread()
    with tempfile.TemporaryDirectory(prefix="pq-bench-web-") as tmp:
        try:
            simulator.start()
            sim = simulator.sim
            settings = {
                "data_dir": str(Path(tmp) / "data"),
                "tradingview_ws_url": sim.ws_url,
                "tradingview_search_url": sim.search_url,
                "tradingview_signin_url": sim.signin_url,
                "scheduler_enabled": False,
            }
            with serving(settings) as (app,):
                body = {"exchange": "BINANCE", "symbol": "BTCUSDT", "interval": "1m", "n_bars": BARS}
                synced = httpx.post(app.base_url + "/api/v1/market-data/sync", json=body, timeout=120).json()
                if synced["bars_written"] != BARS:
                    raise RuntimeError(f"expected {BARS} stored bars: {synced}")
                return round(statistics.median(asyncio.run(_ready_ms(app.base_url))), 1)
        finally:
            simulator.stop()


def run() -> dict[str, float]:
    if not _ready_to_measure():
        return {}
    return {"web_js_gzip_kb": js_gzip_kb(), "web_chart_5000_ready_ms": chart_ready_ms()}


if __name__ == "__main__":
    print(run())
