"""`/api/v1/docs` works with no internet: the page names only this service's files (Swagger UI's, served by
the service), each answers with its content type, and in Chromium with every other host refused the page
renders the API's operations under its Content-Security-Policy, without a violation."""

import re

import httpx
import pytest

from src.app.http import create_app
from src.common.settings import Settings
from tests.e2e.web.browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.e2e
SECRET = "e2e-signing-key-0123456789abcdef0123"
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


@pytest.fixture
def docs_server(serve_app):
    return serve_app(create_app(Settings(_env_file=None, auth_jwt_secret=SECRET, scheduler_enabled=False)))


def test_the_docs_page_names_only_the_services_own_assets_and_each_is_served(docs_server):
    with httpx.Client(base_url=docs_server.url, timeout=30) as client:
        page = client.get("/api/v1/docs")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert not re.findall(r"https?://", page.text)  # not a CDN, not FastAPI's site, not the validator
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self' 'sha256-" in csp and "unsafe" not in csp
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert {a.rsplit(".", 1)[1] for a in assets} == {"js", "css", "png"}
        for asset in assets:
            assert asset.startswith("/api/v1/docs/assets/"), asset
            response = client.get(asset)
            assert response.status_code == 200, asset
            assert response.headers["content-type"].startswith(CONTENT_TYPES["." + asset.rsplit(".", 1)[1]])
            assert response.content
        assert "url: '/api/v1/openapi.json'" in page.text
        assert client.get("/api/v1/openapi.json").status_code == 200
        assert client.get("/api/v1/docs/assets/nope.js").status_code == 404


async def test_the_docs_page_renders_offline_in_chromium_under_its_csp(docs_server):
    playwright_api = pytest.importorskip("playwright.async_api")
    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            messages: list[str] = []
            elsewhere: list[str] = []
            page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
            page.on("pageerror", lambda error: messages.append(f"pageerror: {error}"))

            async def only_this_service(route):
                if route.request.url.startswith(docs_server.url):
                    await route.continue_()
                else:  # as with no internet
                    elsewhere.append(route.request.url)
                    await route.abort()

            await page.route("**/*", only_this_service)
            await page.goto(docs_server.url + "/api/v1/docs")
            await page.wait_for_selector(".opblock", timeout=30_000)  # an operation: the spec was read
            assert "PocketQuant" in await page.inner_text(".info .title")
            assert await page.locator(".opblock").count() > 10
        finally:
            await browser.close()
    assert elsewhere == []
    assert [m for m in messages if "Content Security Policy" in m or m.startswith("pageerror")] == []
