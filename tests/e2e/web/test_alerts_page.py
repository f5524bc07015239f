"""The Alerts page in a real browser against the whole service: a rule created with the form is listed with
its condition in words, a refused one shows the service's reason naming the field, a rule is disabled from
its row, and its trigger history opens; a rule is edited with the same form, prefilled; a rule with the
websocket channel fires on live ticks and the page shows the notification and the trigger. No console errors
or CSP violations meanwhile."""

from collections.abc import AsyncIterator

import httpx
import pytest

from src.app.http import create_app
from tests.e2e.web.conftest import screenshot
from tests.e2e.web.helpers import TICKER, eventually


@pytest.fixture
async def quick_api(e2e_settings, serve_app) -> AsyncIterator[httpx.AsyncClient]:
    """The service whose alert evaluator picks up new rules' symbols within 0.2 s (default 2 s)."""
    server = serve_app(create_app(e2e_settings(alerts_refresh_s=0.2)))
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        yield client


async def create_in_page(page, kind: str, value: str, direction: str, note: str, channels: tuple[str, ...]) -> None:
    await page.fill("input[aria-label=Symbol]", TICKER)
    await page.select_option("select[aria-label=Condition]", kind)
    await page.fill("input[aria-label=Value]", value)
    await page.select_option("select[aria-label=Direction]", direction)
    await page.fill("input[aria-label=Note]", note)
    for channel in ("log", "websocket", "webhook"):
        await page.set_checked(f"input[aria-label='Channel {channel}']", channel in channels)
    await page.click(".alerts-form button[type=submit]")
    await page.wait_for_selector(".alerts-message[data-outcome='ok']")


async def test_rules_are_created_listed_switched_and_their_history_opened(api, page):
    await page.goto(f"{api.base_url}/#/alerts")
    await page.wait_for_selector(".alerts-body[data-available='yes']")
    await page.fill("input[aria-label=Symbol]", "BINANCE:BTCUSDT")
    await page.select_option("select[aria-label=Condition]", "rsi_above")
    await page.fill("input[aria-label=Value]", "70")
    await page.click(".alerts-form button[type=submit]")  # a bar condition without an interval
    await page.wait_for_selector(".alerts-message[data-outcome='error']")
    assert (await page.inner_text(".alerts-message")).startswith("interval:")

    await page.select_option("select[aria-label=Condition]", "price_crosses")
    await page.fill("input[aria-label=Value]", "70000")
    await page.select_option("select[aria-label=Direction]", "up")
    await page.fill("input[aria-label=Note]", "breakout")
    await page.click(".alerts-form button[type=submit]")
    await page.wait_for_selector(".alerts-message[data-outcome='ok']")
    row = page.locator("tr[data-rule]")
    await row.first.wait_for()
    assert "price crosses up 70000" in await row.first.inner_text()
    assert "armed" in await row.first.inner_text()

    await row.first.locator("button:has-text('Disable')").click()
    await page.wait_for_selector("tr[data-rule] button:has-text('Enable')")
    assert "disabled" in await page.locator("tr[data-rule]").first.inner_text()
    await page.locator("tr[data-rule] button:has-text('History')").first.click()
    await page.wait_for_selector(".alerts-history:has-text('Not triggered yet')")
    rules = (await api.get("/api/v1/alerts")).json()
    assert [(r["note"], r["status"]) for r in rules] == [("breakout", "disabled")]
    await screenshot(page, "alerts")
    assert page.log.violations == []


async def test_a_rule_is_edited_with_the_prefilled_form_and_a_refused_edit_names_the_field(api, page):
    await page.goto(f"{api.base_url}/#/alerts")
    await page.wait_for_selector(".alerts-body[data-available='yes']")
    await create_in_page(page, "price_crosses", "70000", "up", "breakout", ("log",))
    rule = (await api.get("/api/v1/alerts")).json()[0]

    await page.locator(f"tr[data-rule='{rule['id']}'] button:has-text('Edit')").click()
    await page.wait_for_selector(f".alerts-form[data-editing='{rule['id']}']")
    assert await page.input_value("input[aria-label=Value]") == "70000"
    assert await page.input_value("select[aria-label=Direction]") == "up"
    assert await page.input_value("input[aria-label=Note]") == "breakout"
    await page.select_option("select[aria-label=Condition]", "rsi_above")  # level 70000: no RSI level
    await page.click(".alerts-form button[type=submit]")
    await page.wait_for_selector(".alerts-message[data-outcome='error']")
    assert (await page.inner_text(".alerts-message")).startswith("condition.level:")
    assert (await api.get(f"/api/v1/alerts/{rule['id']}")).json()["condition"] == rule["condition"]

    await page.select_option("select[aria-label=Condition]", "price_crosses")
    await page.fill("input[aria-label=Value]", "65000")
    await page.select_option("select[aria-label=Direction]", "down")
    await page.fill("input[aria-label=Note]", "breakdown")
    await page.set_checked("input[aria-label='Channel websocket']", True)
    await page.click(".alerts-form button[type=submit]")
    await page.wait_for_selector(".alerts-message[data-outcome='ok']:has-text('Saved')")
    stored = (await api.get(f"/api/v1/alerts/{rule['id']}")).json()
    assert stored["condition"] == {"kind": "price_crosses", "level": 65000, "direction": "down"}
    assert (stored["note"], stored["channels"], stored["symbol"]) == ("breakdown", ["log", "websocket"], TICKER)
    assert [r["id"] for r in (await api.get("/api/v1/alerts")).json()] == [rule["id"]]  # edited, not added
    assert "price crosses down 65000" in await page.locator(f"tr[data-rule='{rule['id']}']").inner_text()
    assert await page.get_attribute(".alerts-form", "data-editing") is None
    assert page.log.violations == []


async def test_create_an_alert_and_see_it_fire(quick_api, page, tv_simulator):
    api = quick_api
    await page.goto(f"{api.base_url}/#/alerts")
    await page.wait_for_selector(".alerts-body[data-available='yes']")
    await page.wait_for_selector(".connection[data-phase='open']")  # the app's live socket, off the chart page
    await create_in_page(page, "price_crosses", "100", "up", "over 100", ("websocket",))
    rule = (await api.get("/api/v1/alerts")).json()[0]
    assert rule["condition"] == {"kind": "price_crosses", "level": 100, "direction": "up"}
    assert rule["channels"] == ["websocket"]
    started = await api.post("/api/v1/quotes/start", json={"symbols": [TICKER]})
    assert started.status_code == 200, started.text

    async def side_after_a_tick_below() -> str:
        await tv_simulator.push_tick(TICKER, 99.0)
        return str((await api.get(f"/api/v1/alerts/{rule['id']}")).json()["side"])

    # The evaluator follows the rule's symbol once it has refreshed: then a tick below sets the rule's side.
    assert await eventually(side_after_a_tick_below, lambda side: side == "below", within_s=15) == "below"
    await page.locator(f"tr[data-rule='{rule['id']}'] button:has-text('History')").click()
    await page.wait_for_selector(".alerts-history[data-triggers='0']")
    await tv_simulator.push_tick(TICKER, 101.5)

    notice = page.locator(f".notification[data-rule='{rule['id']}']")
    await notice.wait_for(timeout=10_000)
    text = await notice.inner_text()
    assert "BINANCE:BTCUSDT: price crosses up 100 (price 101.5, level 100)" in text, text
    assert "over 100" in text and rule["id"] in text
    await page.wait_for_selector(".alerts-history[data-triggers='1']")  # the page reloaded what it showed
    assert "price 101.5" in await page.inner_text(".alerts-history")
    assert await page.locator(f"tr[data-rule='{rule['id']}'] td").nth(4).inner_text() == "1"  # its triggers
    triggers = (await api.get(f"/api/v1/alerts/{rule['id']}/events")).json()
    assert [(t["trigger_count"], t["values"]["price"]) for t in triggers] == [(1, 101.5)]
    await screenshot(page, "alerts-fired")
    assert page.log.violations == []
