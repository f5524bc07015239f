"""The Chart page in Chromium against the service and the TradingView simulator: search and open a symbol,
every stored bar drawn, live bars (forming bar in place, closed bar appended), reconnects, scrolling back
into older history along the service's cursor, indicator toggles with the service's values."""

import time

import pytest

from tests.e2e.web.conftest import screenshot
from tests.e2e.web.helpers import OHLCV, TICKER, candle_columns, chart_data, chart_url, stored_count, sync, wait_chart

pytestmark = pytest.mark.e2e
# Live ticks are stamped two days ahead so that the bars they build are new bars after the synced history.
T0 = (int(time.time()) // 86_400 + 2) * 86_400


async def test_search_and_open_a_symbol_draws_every_stored_bar(api, page):
    await sync(api, "1h", 700)
    await page.goto(str(api.base_url) + "/")
    await page.fill(".search-input", "BTC")
    await page.click(f".search-result[data-ticker='{TICKER}'][data-source='tradingview']")
    await page.click(".interval[data-interval='1h']")
    drawn = await wait_chart(page, "d.ready === 'true' && d.bars !== '0'")

    assert int(drawn["bars"]) == await stored_count(api, "1h") == 700
    assert "symbol=BINANCE%3ABTCUSDT" in page.url and "interval=1h" in page.url
    shot = await screenshot(page, "chart")
    up, down = candle_columns(shot, await page.locator(".chart").bounding_box())
    assert up >= 40 and down >= 40, f"the screenshot shows too few candles ({up} up, {down} down columns)"
    assert page.log.violations == []


async def test_live_ticks_move_the_forming_bar_in_place_and_a_closed_bar_appends(api, page, tv_simulator):
    await sync(api, "1m", 300)
    await page.goto(chart_url(api, "1m"))
    await wait_chart(page, "d.ready === 'true'")
    await wait_chart(page, "d.subscribed === '1'")  # the service follows the symbol upstream

    await tv_simulator.push_tick(TICKER, 100.0, when=T0 + 1)
    first = await wait_chart(page, f"d.newest === '{T0}' && d.lastClose === '100'")
    await tv_simulator.push_tick(TICKER, 103.0, when=T0 + 20)
    await tv_simulator.push_tick(TICKER, 99.0, when=T0 + 40)
    moved = await wait_chart(page, "d.lastClose === '99'")
    assert (moved["newest"], moved["bars"]) == (str(T0), first["bars"])  # the same bar, updated in place

    # A chart opened in the middle of the bar draws it from the subscription's snapshot, before any new tick.
    newest_stored = (await api.get(OHLCV, params={"interval": "1m", "limit": 1})).json()["bars"][-1]["timestamp"]
    assert newest_stored < T0  # the forming bar is not in the history the page loads
    late = await page.context.new_page()
    await late.goto(chart_url(api, "1m"))
    joined = await wait_chart(late, f"d.subscribed === '1' && d.newest === '{T0}'")
    assert joined["lastClose"] == "99"
    await late.close()

    await tv_simulator.push_tick(TICKER, 101.0, when=T0 + 61)  # closes the T0 minute
    closed = await wait_chart(page, f"Number(d.closedBars) >= 1 && d.newest === '{T0 + 60}'")
    assert int(closed["bars"]) == int(first["bars"]) + 1
    assert closed["lastClose"] == "101"
    await screenshot(page, "chart-live")
    assert page.log.violations == []


async def test_a_dropped_socket_reconnects_shows_it_and_keeps_the_chart_live(api, page, tv_simulator):
    await sync(api, "1m", 120)
    sockets = []

    async def through(route):
        route.connect_to_server()
        sockets.append(route)

    await page.route_web_socket("**/api/v1/ws/quotes", through)
    await page.goto(chart_url(api, "1m"))
    await wait_chart(page, "d.subscribed === '1'")

    await sockets[0].close(code=1012, reason="service restart")
    await page.wait_for_selector(".connection[data-phase='open'][data-reconnects='1']", timeout=15_000)
    assert "1 reconnect" in await page.inner_text(".connection")
    await wait_chart(page, "d.subscribed === '2'")  # the subscription was restored on the new socket
    await tv_simulator.push_tick(TICKER, 123.0, when=T0 + 1)
    await wait_chart(page, f"d.newest === '{T0}' && d.lastClose === '123'")
    assert len(sockets) == 2


async def test_scrolling_left_loads_older_bars_until_the_first_one(api, page):
    await sync(api, "1m", 6_500)  # more than the 5,000 bars of the first page
    pages: list[str] = []
    page.on("request", lambda r: pages.append(r.url) if "/ohlcv/" in r.url else None)
    await page.goto(chart_url(api, "1m"))
    first = await wait_chart(page, "d.ready === 'true'")
    assert first["bars"] == "5000"

    box = await page.locator(".chart").bounding_box()
    y = box["y"] + box["height"] / 3
    await page.mouse.move(box["x"] + box["width"] / 2, y)
    for _ in range(40):  # zoom all the way out
        await page.mouse.wheel(0, 600)
    for _ in range(10):  # then drag the history to the right, towards older bars
        if (await chart_data(page))["oldest"] != first["oldest"]:
            break
        await page.mouse.move(box["x"] + 100, y)
        await page.mouse.down()
        await page.mouse.move(box["x"] + box["width"] - 100, y, steps=5)
        await page.mouse.up()
    loaded = await wait_chart(page, "d.exhausted === 'true'")

    assert int(loaded["oldest"]) < int(first["oldest"])
    assert int(loaded["bars"]) == await stored_count(api, "1m") >= 6_500
    # the older page is the one the service linked to: its cursor is the first page's oldest bar
    assert len(pages) == 2 and f"before={first['oldest']}" in pages[1]
    await screenshot(page, "chart-scrolled-back")


async def test_indicator_toggles_draw_the_services_values_over_the_price_and_in_panes_of_their_own(api, page):
    await sync(api, "1h", 300)
    bars = (await api.get(OHLCV, params={"interval": "1h", "limit": 300})).json()["bars"]
    closes = [b["close"] for b in bars]
    sma20 = {b["time"]: sum(closes[i - 19:i + 1]) / 20 for i, b in enumerate(bars) if i >= 19}  # the reference
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/v1/indicators/" in r.url else None)
    await page.goto(chart_url(api, "1h"))
    await wait_chart(page, "d.ready === 'true'")
    await page.wait_for_selector(".indicators[data-available='yes']")

    await page.check(".indicators input[data-spec='sma:20']")
    drawn = await wait_chart(page, "(d.lines || '').includes('sma_20@0:')")
    assert drawn["lines"] == f"sma_20@0:{len(sma20)}" and drawn["panes"] == "2"  # price and volume
    assert any("indicators=sma%3A20" in url for url in asked)
    box = await page.locator(".chart").bounding_box()
    await page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.3)
    legend = page.locator(".legend-indicator")
    await legend.first.wait_for()
    text = await legend.first.inner_text()
    hovered = await page.inner_text(".legend-time")
    expected = next(v for t, v in sma20.items() if t.replace("T", " ").replace(":00Z", " UTC") == hovered)
    assert text.startswith("sma_20") and float(text.split()[-1].replace(",", "")) == pytest.approx(expected, abs=0.01)

    await page.check(".indicators input[data-spec='rsi:14']")
    await page.check(".indicators input[data-spec='macd:12:26:9']")
    drawn = await wait_chart(page, "d.panes === '4' && (d.lines || '').split(' ').length === 5")
    lines = dict(item.split("@") for item in drawn["lines"].split())
    assert {c: p.split(":")[0] for c, p in lines.items()} == {
        "sma_20": "0", "rsi_14": "2", "macd_12_26_9": "3", "macd_signal_12_26_9": "3", "macd_hist_12_26_9": "3",
    }
    await page.fill(".custom-spec", "ema:30")
    await page.press(".custom-spec", "Enter")
    await wait_chart(page, "(d.lines || '').includes('ema_30@0:')")
    await screenshot(page, "chart-indicators")

    await page.uncheck(".indicators input[data-spec='rsi:14']")
    drawn = await wait_chart(page, "d.panes === '3' && !(d.lines || '').includes('rsi_14')")
    assert "macd_12_26_9@2:" in drawn["lines"]
    await page.fill(".custom-spec", "sma:1")
    await page.press(".custom-spec", "Enter")
    assert "period must be within" in await page.inner_text(".indicator-message")
    assert page.log.violations == []
