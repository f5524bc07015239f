"""The Alerts page in a real browser against the whole service: a rule created with the form is listed with
its condition in words, a refused one shows the service's reason naming the field, a rule is disabled from
its row, and its trigger history opens. No console errors or CSP violations meanwhile."""

from tests.e2e.web.conftest import screenshot


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
