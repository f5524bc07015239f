"""The app's frame in Chromium and over HTTP: served at `/` under a strict Content-Security-Policy with
long-cached hashed assets, a page explaining how to build it when it is not built, and the Alerts page on a
service without alerts (the login flow is in `test_login.py`)."""

import re
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from src.app.web import CONTENT_SECURITY_POLICY, mount_web_app
from tests.e2e.web.browser import JS_GZIP_BUDGET_KB, js_gzip_kb
from tests.e2e.web.conftest import screenshot

pytestmark = pytest.mark.e2e


async def test_root_serves_the_app_under_a_strict_csp_with_immutable_hashed_assets(api, browser_ready):
    index = await api.get("/")
    assert index.status_code == 200 and index.headers["content-type"].startswith("text/html")
    csp = index.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe" not in csp
    assert index.headers["cache-control"] == "no-cache"
    assets = re.findall(r'(?:src|href)="([^"]+)"', index.text)
    assert [a for a in assets if not a.startswith("/assets/")] == ["data:,"]  # the empty favicon, nothing remote
    for asset in assets[1:] if assets[0] == "data:," else assets:
        if not asset.startswith("/assets/"):
            continue
        assert re.search(r"-[A-Za-z0-9_-]{8}\.(js|css)$", asset), asset
        response = await api.get(asset)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert (await api.get("/assets/nope-12345678.js")).status_code == 404
    assert (await api.get("/health")).status_code in (200, 503)  # the API is untouched by the mount


def test_the_apps_javascript_stays_within_its_budget(browser_ready):
    assert 0 < js_gzip_kb() <= JS_GZIP_BUDGET_KB


async def test_without_a_build_root_says_how_to_enable_the_app(tmp_path: Path):
    app = FastAPI()
    mount_web_app(app, tmp_path / "dist")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        page = await client.get("/")
    assert page.status_code == 200
    assert "make web" in page.text and "Node.js" in page.text
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


async def test_the_web_dist_dir_setting_names_the_build_an_installed_service_serves(tmp_path: Path, serve_app):
    """The image installs the package (no checkout beside it): WEB_DIST_DIR names where its build lies."""
    from src.app.http import create_app
    from src.common.settings import Settings

    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>built elsewhere</title>")
    server = serve_app(create_app(Settings(web_dist_dir=str(dist), scheduler_enabled=False)))
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        page = await client.get("/")
    assert page.status_code == 200 and "built elsewhere" in page.text


async def test_the_alerts_page_says_when_the_service_has_no_alerts_api(api, page):
    if (await api.get("/api/v1/alerts")).status_code != 404:
        pytest.skip("this service has the alerts API")
    await page.goto(f"{api.base_url}/#/alerts")
    await page.wait_for_selector(".alerts-body[data-available='no']")
    assert "no alerts API" in await page.inner_text(".alerts-body")
    await screenshot(page, "alerts")
