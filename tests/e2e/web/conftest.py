"""The web app in a real browser: Debian's `chromium` driven by Playwright (never a browser Playwright
downloads), against the whole service (`api` of `tests/e2e/conftest.py`: uvicorn, embedded store, Redis and
the TradingView simulator) serving the built app at `/`.

Without Chromium, Playwright or a built app (`make web` needs Node.js) the tests skip, saying why; under CI
(`CI` set) they fail instead, so a CI machine cannot pass them by not running them. Screenshots land in
`tests/e2e/web/artifacts/` (gitignored).
"""

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.web.browser import CHROMIUM, CHROMIUM_ARGS, missing_for_browser_tests

ARTIFACTS = Path(__file__).parent / "artifacts"
VIEWPORT = {"width": 1400, "height": 850}


@pytest.fixture
def browser_ready() -> None:
    reason = missing_for_browser_tests()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must run the browser tests")
    pytest.skip(reason)


class PageLog:
    """What the page said on its console: CSP violations and script errors must never happen."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, kind: str, text: str) -> None:
        self.messages.append(f"{kind}: {text}")

    @property
    def violations(self) -> list[str]:
        return [m for m in self.messages if "Content Security Policy" in m or m.startswith("pageerror")]


@pytest.fixture
async def browser(browser_ready: None) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def page(browser: Any) -> AsyncIterator[Any]:
    """A fresh browser context (no cache, no storage) and page; `page.log` holds its console."""
    context = await browser.new_context(viewport=VIEWPORT)
    opened = await context.new_page()
    log = PageLog()
    opened.on("console", lambda message: log.add(message.type, message.text))
    opened.on("pageerror", lambda error: log.add("pageerror", str(error)))
    opened.log = log
    try:
        yield opened
    finally:
        await context.close()


async def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path))
    return path
