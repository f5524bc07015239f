"""The Series page in Chromium: coverage with a gap on the time line, "sync now" run to completion, repair,
track and untrack — against the service and the TradingView simulator."""

import json
import time

import pytest

from src.domain.market_data import Interval
from tests.e2e.web.conftest import screenshot
from tests.e2e.web.helpers import BTC, OHLCV, TICKER, eventually, sync

pytestmark = pytest.mark.e2e
T0 = (int(time.time()) // 86_400 + 2) * 86_400
BLOCK = f".symbol-block[data-ticker='{TICKER}'][data-source='tradingview']"


def row(interval: str) -> str:
    return f"{BLOCK} .series-row[data-interval='{interval}']"


async def coverage(api, interval: str) -> dict:
    response = await api.get(f"/api/v1/market-data/sync-status/BINANCE/BTCUSDT/{interval}")
    return response.json().get("coverage") or {}


async def test_a_gap_left_by_live_bars_is_drawn_on_the_time_line(api, page, tv_simulator):
    await sync(api, "1m", 300)
    await api.post("/api/v1/market-data/symbols", json={**BTC, "intervals": ["1m", "1h"]})
    subscribed = await api.post("/api/v1/quotes/subscribe", json={"symbols": [TICKER], "intervals": ["1m"]})
    assert subscribed.status_code == 200, subscribed.text
    await tv_simulator.push_tick(TICKER, 100.0, when=T0 + 1)
    await tv_simulator.push_tick(TICKER, 101.0, when=T0 + 61)  # the T0 bar closes and is stored, days after the history
    covered = await eventually(lambda: coverage(api, "1m"), lambda c: len(c.get("gaps", [])) == 1)
    assert len(covered["gaps"]) == 1, covered

    await page.goto(f"{api.base_url}/#/series")
    line = page.locator(row("1m"))
    await line.locator(".timeline[data-gaps='1'] .timeline-gap").wait_for()
    cells = await line.locator("span").all_inner_texts()
    assert f"{covered['missing_bars']:,}" in cells and f"{covered['bar_count']:,}" in cells
    gap_box = await line.locator(".timeline-gap").bounding_box()
    band_box = await line.locator(".timeline-band").bounding_box()
    assert gap_box["width"] > 0 and band_box["x"] <= gap_box["x"] <= band_box["x"] + band_box["width"]
    assert "missing" in (await line.locator(".timeline-gap").get_attribute("title"))
    await screenshot(page, "series")
    assert page.log.violations == []


async def test_sync_now_runs_a_sync_to_completion_and_shows_its_coverage(api, page):
    await api.post("/api/v1/market-data/symbols", json={**BTC, "intervals": ["1h"]})
    await page.goto(f"{api.base_url}/#/series")
    # Tracking started the first sync (the newest 500 bars): the row follows it to completion.
    await page.wait_for_selector(f"{row('1h')}[data-status='completed']", timeout=30_000)
    assert (await coverage(api, "1h"))["bar_count"] == 500
    await page.fill("input[aria-label='Bars per sync']", "800")

    async with page.expect_request("**/sync/background") as started:
        await page.click(f"{row('1h')} button[data-action='sync']")
    sent = json.loads((await started.value).post_data)
    assert sent == {**BTC, "source": "tradingview", "interval": "1h", "n_bars": 800}
    done = f"{row('1h')}[data-status='completed'] .progress[data-status='completed']"
    await page.wait_for_selector(done, timeout=30_000)

    progress = await page.inner_text(f"{row('1h')} .progress")
    assert progress.startswith("completed") and "bars written" in progress
    assert (await coverage(api, "1h"))["bar_count"] == 800
    assert "800" in await page.locator(row("1h")).locator("span.num").first.inner_text()
    await screenshot(page, "series-synced")


async def test_repair_fetches_the_whole_window_again_where_sync_now_keeps_stored_bars(api, page, tv_simulator):
    rows = tv_simulator.market.history(TICKER, Interval.H1)
    await sync(api, "1h", 200)
    revised = list(rows[-100])
    revised[4] = revised[3]  # the source revised an old bar's close
    rows[-100] = revised
    await page.goto(f"{api.base_url}/#/series")
    await page.fill("input[aria-label='Bars per sync']", "200")
    progress = f"{row('1h')} .progress"

    async with page.expect_request("**/sync/background") as started:
        await page.click(f"{row('1h')} button[data-action='sync']")
    assert "refresh" not in json.loads((await started.value).post_data)
    await page.wait_for_function(f"() => document.querySelector(\"{progress}\")?.textContent.startsWith('completed')")
    assert await stored_close(api, revised[0]) != revised[4]  # stored and complete: not asked again

    async with page.expect_request("**/sync/background") as started:
        await page.click(f"{row('1h')} button[data-action='repair']")
    assert json.loads((await started.value).post_data)["refresh"] is True
    repaired = f"() => document.querySelector(\"{progress}\")?.textContent.startsWith('repair: completed')"
    await page.wait_for_function(repaired)
    assert await stored_close(api, revised[0]) == revised[4]
    assert written(await page.inner_text(progress)) >= 1


async def stored_close(api, timestamp: int) -> float:
    bars = (await api.get(OHLCV, params={"interval": "1h", "start": timestamp, "end": timestamp})).json()["bars"]
    return bars[0]["close"]


def written(progress: str) -> int:
    """The count of "… · 1,234 bars written" in a progress line."""
    return int(next(p for p in progress.split(" · ") if p.endswith("bars written")).split()[0].replace(",", ""))


async def test_a_failing_sync_shows_its_error_on_the_row(api, page, tv_simulator):
    # The source refuses every series request, the first sync that tracking starts included.
    tv_simulator.faults.series_error = "invalid parameters"
    await api.post("/api/v1/market-data/symbols", json={**BTC, "intervals": ["1h"]})
    await page.goto(f"{api.base_url}/#/series")
    await page.click(f"{row('1h')} button[data-action='sync']")
    await page.wait_for_selector(f"{row('1h')}[data-status='error'] .progress[data-status='error']", timeout=30_000)
    shown = await page.inner_text(f"{row('1h')} .progress")
    status = (await api.get("/api/v1/market-data/sync-status/BINANCE/BTCUSDT/1h")).json()
    assert status["status"] == "error" and shown.startswith("error") and status["error"] in shown
    assert await page.inner_text(f"{row('1h')} .status") == "error"
    await screenshot(page, "series-error")


async def test_track_then_untrack_a_symbol(api, page):
    await page.goto(f"{api.base_url}/#/series")
    await page.fill("input[aria-label='Symbol to track']", "binance:ethusdt")
    await page.check(".interval-boxes input[value='4h']")
    await page.click(".track-form button")
    block = page.locator(".symbol-block[data-ticker='BINANCE:ETHUSDT']")
    await block.wait_for()
    assert await block.locator(".series-row").evaluate_all("rows => rows.map(r => r.dataset.interval)") == ["4h", "1d"]
    tracked = (await api.get("/api/v1/market-data/symbols")).json()
    assert [(t["symbol"], t["intervals"]) for t in tracked] == [("ETHUSDT", ["4h", "1d"])]

    await block.locator(".symbol-title button[data-action='untrack']").click()
    # Tracking synced it at once: untracked, its stored series stay listed, marked so, without the button.
    await block.locator(".symbol-title .tag", has_text="not tracked").wait_for()
    assert await block.locator(".symbol-title button[data-action='untrack']").count() == 0
    assert (await api.get("/api/v1/market-data/symbols")).json() == []
