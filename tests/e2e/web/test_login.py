"""The login flow in Chromium against the service with authentication on (`AUTH_JWT_SECRET`): a page that
needs the API sends the user to the login page; a wrong password is refused there; signing in returns to the
page, which then loads its data and goes live (on a service that takes the WebSocket's credentials in its
first message); the tokens stay in memory (no storage, cookie or URL holds
them); a 401 to a request renews the token once through `POST /auth/refresh` and repeats the request;
signing out ends the login at the service (its refresh token stops working); a 403 (a viewer starting a sync)
shows the service's reason and keeps the session."""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from src.app.http import create_app
from tests.e2e.web.conftest import screenshot
from tests.e2e.web.helpers import BTC, OHLCV, chart_url, wait_chart

pytestmark = pytest.mark.e2e
SECRET = "e2e-web-secret-" + "x" * 32
ADMIN_PASSWORD = "the password of the browser tests"
TRADER = {"username": "ada", "password": "correct horse battery staple"}


@pytest.fixture
async def authed_api(e2e_settings, serve_app) -> AsyncIterator[httpx.AsyncClient]:
    """The service with authentication on; the client is signed in as the admin."""
    server = serve_app(create_app(e2e_settings(auth_jwt_secret=SECRET, admin_password=ADMIN_PASSWORD)))
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        login = await client.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        created = await client.post("/api/v1/users", json={**TRADER, "role": "trader"})
        assert created.status_code == 201, created.text
        yield client


async def takes_in_band_auth(api: httpx.AsyncClient) -> bool:
    """Whether the service accepts a WebSocket handshake without credentials (to authenticate in the first
    message, as browsers must); a service that wants them in the handshake refuses it with 403."""
    try:
        async with connect(str(api.base_url).replace("http", "ws", 1) + "/api/v1/ws/quotes", open_timeout=5):
            return True
    except InvalidStatus as refused:
        assert refused.response.status_code == 403
        return False


class Tokens:
    """The token pairs the service handed the page (read off the network, as the page's own memory is not
    reachable from outside), and the bearer tokens the page sent."""

    def __init__(self, page: Any) -> None:
        self.pairs: list[dict[str, Any]] = []
        self.sent: list[tuple[str, str | None]] = []
        page.on("response", self._response)
        page.on("request", self._request)

    def _request(self, request: Any) -> None:
        if "/api/v1/" in request.url:
            self.sent.append((request.url, request.headers.get("authorization")))

    async def _response(self, response: Any) -> None:
        if response.url.endswith(("/auth/login", "/auth/refresh")) and response.status == 200:
            self.pairs.append(json.loads(await response.body()))


async def test_sign_in_to_reach_the_chart_then_renew_and_sign_out(authed_api, page):
    await authed_api.post("/api/v1/market-data/sync", json={**BTC, "interval": "1h", "n_bars": 300})
    tokens = Tokens(page)
    await page.goto(chart_url(authed_api, "1h"))
    await page.wait_for_selector(".login-form")
    assert "#/login?next=" in page.url
    await screenshot(page, "login")

    await page.fill("input[name=username]", TRADER["username"])
    await page.fill("input[name=password]", "wrong password entirely")
    await page.click(".login-form button")
    await page.wait_for_selector(".login-message:has-text('wrong username or password')")
    await page.fill("input[name=password]", TRADER["password"])
    await page.click(".login-form button")
    drawn = await wait_chart(page, "d.ready === 'true'")
    stored = (await authed_api.get(OHLCV, params={"interval": "1h", "limit": 1000})).json()["count"]
    assert int(drawn["bars"]) == stored == 300
    assert await page.inner_text("header .user") == "ada · trader"
    if await takes_in_band_auth(authed_api):  # the live socket authenticates with its first message
        await wait_chart(page, "d.subscribed === '1'")
    await page.wait_for_selector(".indicators[data-available='yes']")

    access = tokens.pairs[0]["access_token"]
    assert all(token in (None, f"Bearer {access}") for _, token in tokens.sent)
    assert access not in page.url and tokens.pairs[0]["refresh_token"] not in page.url
    held = await page.evaluate("() => [localStorage.length, sessionStorage.length, document.cookie]")
    assert held == [0, 0, ""]
    assert await page.context.cookies() == []

    # The service refuses the next status read as it would an expired token: the page renews and repeats it.
    refused: list[str] = []

    async def expired_once(route: Any) -> None:
        if refused:
            return await route.fallback()
        refused.append(route.request.headers.get("authorization"))
        await route.fulfill(status=401, json={"type": "about:blank", "status": 401, "detail": "token expired"},
                           headers={"content-type": "application/problem+json"})

    await page.route("**/api/v1/market-data/sync-status", expired_once)
    await page.click("nav a[data-page='series']")
    await page.wait_for_selector(".symbol-block[data-ticker='BINANCE:BTCUSDT'] .series-row[data-interval='1h']")
    assert refused == [f"Bearer {access}"] and len(tokens.pairs) == 2
    renewed = tokens.pairs[1]["access_token"]  # equal to the first when issued within the same second
    assert tokens.pairs[1]["refresh_token"] != tokens.pairs[0]["refresh_token"]
    status_reads = [token for url, token in tokens.sent if url.endswith("/sync-status")]
    assert status_reads[-2:] == [f"Bearer {access}", f"Bearer {renewed}"]
    assert "#/series" in page.url

    await page.click("header button[data-action='sign-out']")
    await page.wait_for_selector(".login-form")
    assert await page.is_hidden("header .user")
    ended = await httpx.AsyncClient(base_url=str(authed_api.base_url)).post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens.pairs[1]["refresh_token"]})
    assert ended.status_code == 401  # the login ended at the service
    await page.goto(f"{authed_api.base_url}/#/series")
    await page.wait_for_selector(".login-form")
    assert page.log.violations == []


async def test_a_viewer_sees_the_services_refusal_when_starting_a_sync(authed_api, page):
    viewer = {"username": "vic", "password": "a viewer's long password"}
    created = await authed_api.post("/api/v1/users", json={**viewer, "role": "viewer"})
    assert created.status_code == 201, created.text
    await authed_api.post("/api/v1/market-data/symbols", json={**BTC, "intervals": ["1h"]})
    status_path = "/api/v1/market-data/sync-status/BINANCE/BTCUSDT/1h"
    for _ in range(300):  # tracking started the first sync: let it end, so that a later run would show
        before = (await authed_api.get(status_path)).json()
        if before.get("status") == "completed":
            break
        await asyncio.sleep(0.1)
    await page.goto(f"{authed_api.base_url}/#/series")
    await page.fill("input[name=username]", viewer["username"])
    await page.fill("input[name=password]", viewer["password"])
    await page.click(".login-form button")
    line = ".symbol-block[data-ticker='BINANCE:BTCUSDT'] .series-row[data-interval='1h']"
    await page.click(f"{line} button[data-action='sync']")
    await page.wait_for_selector(f"{line} .progress[data-status='failed']")
    refusal = await page.inner_text(f"{line} .progress")
    assert refusal.startswith("failed:") and "run syncs" in refusal  # the permission the service names
    assert await page.is_visible("header button[data-action='sign-out']")  # a 403 is no reason to sign out
    assert (await authed_api.get(status_path)).json() == before  # no sync was started
