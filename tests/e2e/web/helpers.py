"""Steps the browser tests share: syncing through the API, opening pages, reading what the chart drew."""

import asyncio
import io
import time
from pathlib import Path
from typing import Any

import httpx

BTC = {"exchange": "BINANCE", "symbol": "BTCUSDT"}
TICKER = "BINANCE:BTCUSDT"
OHLCV = "/api/v1/market-data/ohlcv/BINANCE/BTCUSDT"
UP = (38, 166, 154)
DOWN = (239, 83, 80)


async def sync(api: httpx.AsyncClient, interval: str, n_bars: int) -> dict[str, Any]:
    response = await api.post("/api/v1/market-data/sync", json={**BTC, "interval": interval, "n_bars": n_bars})
    assert response.status_code == 200, response.text
    return response.json()


async def stored_count(api: httpx.AsyncClient, interval: str) -> int:
    body = (await api.get(OHLCV, params={"interval": interval, "limit": 100_000})).json()
    return int(body["count"])


def chart_url(api: httpx.AsyncClient, interval: str) -> str:
    return f"{api.base_url}/#/chart?symbol=BINANCE%3ABTCUSDT&source=tradingview&interval={interval}"


async def chart_data(page: Any) -> dict[str, str]:
    return dict(await page.evaluate("() => ({...document.querySelector('.chart').dataset})"))


async def wait_chart(page: Any, condition: str, timeout_ms: float = 15_000) -> dict[str, str]:
    """Waits until `condition`, a JS expression over `d` (the chart's data attributes), holds."""
    script = f"() => {{ const d = document.querySelector('.chart')?.dataset; return !!d && ({condition}); }}"
    await page.wait_for_function(script, timeout=timeout_ms)
    return await chart_data(page)


async def eventually(read: Any, predicate: Any, within_s: float = 10.0) -> Any:
    deadline = time.monotonic() + within_s
    while True:
        value = await read()
        if predicate(value) or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.1)


def candle_columns(png: Path, box: dict[str, float]) -> tuple[int, int]:
    """Pixel columns inside `box` holding the up colour and the down colour of the candles (±12 per channel)."""
    from PIL import Image

    image = Image.open(io.BytesIO(png.read_bytes())).convert("RGB")
    region = image.crop((int(box["x"]), int(box["y"]), int(box["x"] + box["width"]), int(box["y"] + box["height"])))
    width, height = region.size
    pixels = region.load()
    up, down = set(), set()
    for x in range(width):
        for y in range(0, height, 2):
            rgb = pixels[x, y]
            if all(abs(a - b) <= 12 for a, b in zip(rgb, UP, strict=True)):
                up.add(x)
            elif all(abs(a - b) <= 12 for a, b in zip(rgb, DOWN, strict=True)):
                down.add(x)
    return len(up), len(down)
