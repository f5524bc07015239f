"""Web app figures (issue 21), measured in Debian's Chromium driven by Playwright.

- `web_chart_5000_ready_ms`: from navigation start to the chart drawn with 5,000 bars, read in the browser
  from the Performance API (the `pq-chart-ready` mark the chart sets on the frame after its first
  `setData`, whose `startTime` counts from the navigation's start). Each load is a fresh browser context
  (nothing cached: the app's files, the page and the 5,000 bars all come over HTTP); the median of
  `LOADS` loads. The service runs as `make run` runs it (its own uvicorn process, embedded store) with
  5,000 one-minute bars synced from the TradingView simulator beforehand. Target: <= 1,000 ms.
- `web_js_gzip_kb`: the app's JavaScript as a browser downloads it gzip-compressed (level 9), in KiB.
- `web_live_20tps_dropped_frames_pct`: with the simulator trading the charted symbol 20 times a second (each
  trade a forming-bar update on the 1-minute chart), the share of the page's animation frames over
  `LIVE_SECONDS` that came later than 1.5 frame periods after the previous one (a missed frame), counted by a
  `requestAnimationFrame` loop in the page. Headless Chromium draws without a GPU here, so this is an
  upper bound of what a desktop browser shows; `web_idle_dropped_frames_pct`, the same count on the same page
  with no trades just before, is its baseline.

Without Chromium, Playwright or a built app (Node.js builds it: `make web`) there is nothing to measure:
the module returns no figure. A missing or stale build is built first when Node.js is available.
"""

import asyncio
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import httpx

from benchmarks._load import serving
from benchmarks.bench_market_data import SimulatorThread
from simulators.tradingview.market import DEFAULT_SYMBOLS
from simulators.tradingview.server import TradingViewSimulator
from src.app.web import WEB_DIST
from tests.e2e.web.browser import CHROMIUM, CHROMIUM_ARGS, js_gzip_kb, missing_for_browser_tests

LOADS = 7
BARS = 5_000
LIVE_SECONDS = 5.0
LIVE_TICKS_PER_S = 20.0
# Frame intervals for LIVE_SECONDS; a late frame is one 1.5 periods after the previous (60 Hz: 25 ms).
FRAMES = """(seconds) => new Promise((done) => {
  const deltas = []; let last = performance.now(); const end = last + seconds * 1000;
  const step = (now) => {
    deltas.push(now - last);
    last = now;
    if (now < end) requestAnimationFrame(step); else done(deltas);
  };
  requestAnimationFrame(step);
})"""
CHART = "/#/chart?symbol=BINANCE%3ABTCUSDT&source=tradingview&interval=1m"
READY = "() => performance.getEntriesByName('pq-chart-ready').length > 0"
MARK = "() => { const m = performance.getEntriesByName('pq-chart-ready')[0]; return [m.startTime, m.detail.bars]; }"


def _ready_to_measure() -> bool:
    """Chromium, Playwright and a current build (built first when Node.js can)."""
    if shutil.which("npm") is not None:
        subprocess.run(["make", "--no-print-directory", "web"], cwd=WEB_DIST.parents[1], check=True,
                       stdout=subprocess.DEVNULL)
    return missing_for_browser_tests() is None


class ChartedSymbolSimulator(SimulatorThread):
    """The simulator serving only the charted symbol, so that its trading loop runs at the rate asked."""

    def __init__(self) -> None:
        super().__init__()
        self.sim = TradingViewSimulator(symbols=[s for s in DEFAULT_SYMBOLS if s.ticker == "BINANCE:BTCUSDT"])


def _late_pct(deltas: list[float]) -> float:
    period = statistics.median(deltas)
    return round(100 * sum(d > 1.5 * period for d in deltas[1:]) / max(1, len(deltas) - 1), 2)


async def _dropped_frames(browser: Any, base_url: str, sim: Any) -> dict[str, float]:
    """Late frames with the chart idle (the baseline), then while the symbol trades LIVE_TICKS_PER_S."""
    context = await browser.new_context(viewport={"width": 1400, "height": 850})
    page = await context.new_page()
    await page.goto(base_url + CHART)
    await page.wait_for_selector(".chart[data-subscribed='1']")
    idle: list[float] = await page.evaluate(FRAMES, LIVE_SECONDS)
    before = int(await page.get_attribute(".chart", "data-live-updates") or 0)
    sim.faults.tick_rate = LIVE_TICKS_PER_S
    try:
        live: list[float] = await page.evaluate(FRAMES, LIVE_SECONDS)
    finally:
        sim.faults.tick_rate = 0.0
    updates = int(await page.get_attribute(".chart", "data-live-updates") or 0) - before
    await context.close()
    if updates < LIVE_TICKS_PER_S * LIVE_SECONDS * 0.6:
        raise RuntimeError(f"only {updates} live updates reached the chart")
    return {"web_idle_dropped_frames_pct": _late_pct(idle), "web_live_20tps_dropped_frames_pct": _late_pct(live)}


async def _ready_ms(browser: Any, base_url: str) -> float:
    context = await browser.new_context(viewport={"width": 1400, "height": 850})
    page = await context.new_page()
    await page.goto(base_url + CHART)
    await page.wait_for_function(READY, timeout=30_000)
    started_ms, bars = await page.evaluate(MARK)
    await context.close()
    if bars != BARS:
        raise RuntimeError(f"the chart drew {bars} bars, not {BARS}")
    return float(started_ms)


async def _in_browser(base_url: str, sim: Any) -> dict[str, float]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            ready = [await _ready_ms(browser, base_url) for _ in range(LOADS)]
            dropped = await _dropped_frames(browser, base_url, sim)
        finally:
            await browser.close()
    return {"web_chart_5000_ready_ms": round(statistics.median(ready), 1), **dropped}


def browser_figures() -> dict[str, float]:
    simulator = ChartedSymbolSimulator()
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
                return asyncio.run(_in_browser(app.base_url, sim))
        finally:
            simulator.stop()


def run() -> dict[str, float]:
    if not _ready_to_measure():
        return {}
    return {"web_js_gzip_kb": js_gzip_kb(), **browser_figures()}


if __name__ == "__main__":
    print(run())
