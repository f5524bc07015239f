"""The web app in a real browser: Debian's `chromium` driven by Playwright (never a browser Playwright
downloads), against the whole service (`api` of `tests/e2e/conftest.py`: uvicorn, embedded store, Redis and
the TradingView simulator) serving the built app at `/`.

Without Chromium, Playwright or a built app (`make web` needs Node.js) the tests skip, saying why; under CI
(`CI` set) they fail instead, so a CI machine cannot pass them by not running them. Screenshots land in
`tests/e2e/web/artifacts/` (gitignored).
"""

import importlib.util
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from src.app.web import WEB_DIST

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
VIEWPORT = {"width": 1400, "height": 850}


def missing_for_browser_tests() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (make install)"
    if not Path(CHROMIUM).exists():
        return "Debian's chromium is not installed (apt-get install chromium)"
    if not (WEB_DIST / "index.html").is_file():
        return "the web app is not built (make web; needs Node.js >= 18 and npm)"
    if _newest_source() > (WEB_DIST / "index.html").stat().st_mtime:
        return "the web app's build is older than its sources (make web)"
    return None


def _newest_source() -> float:
    web = WEB_DIST.parent
    sources = [*web.joinpath("src").rglob("*"), web / "index.html", web / "vite.config.ts", web / "package-lock.json"]
    return max(path.stat().st_mtime for path in sources if path.is_file())


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
