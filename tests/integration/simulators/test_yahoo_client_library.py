"""yfinance, unchanged, pointed at the Yahoo simulator over plain HTTP: history at 1m, 1h and 1d, actions,
search and the quote endpoint's crumb.

yfinance is synchronous, so each call runs in a thread while the simulator serves on the test's loop."""

import asyncio
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from tests.fixtures.yahoo_simulator import simulator_session

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


@pytest.fixture
def yf(yahoo_simulator, tmp_path):
    import yfinance
    from yfinance.data import SingletonMeta, YfData

    yfinance.set_tz_cache_location(str(tmp_path / "yfinance"))
    SingletonMeta._instances.pop(YfData, None)  # a fresh cookie and crumb for this simulator
    yfinance.config.debug.hide_exceptions = False
    return yfinance


def ticker(yf, sim, symbol):
    return yf.Ticker(symbol, session=simulator_session(sim.base_url))


async def test_daily_history_with_actions_and_adjusted_prices(yf, yahoo_simulator):
    aapl = ticker(yf, yahoo_simulator, "AAPL")
    raw = await asyncio.to_thread(aapl.history, period="1y", interval="1d", auto_adjust=False)
    assert len(raw) > 240 and str(raw.index.tz) == "America/New_York"
    assert raw["Dividends"].gt(0).sum() == 4 and raw.loc[raw["Dividends"] > 0, "Dividends"].eq(0.25).all()
    assert (raw["Adj Close"] <= raw["Close"]).all() and raw["Adj Close"].iloc[-1] == raw["Close"].iloc[-1]
    assert (raw["High"] >= raw[["Open", "Close"]].max(axis=1)).all()
    assert aapl.history_metadata["exchangeTimezoneName"] == "America/New_York"


async def test_hourly_history_is_stamped_at_the_session_anchored_opens(yf, yahoo_simulator):
    aapl = ticker(yf, yahoo_simulator, "AAPL")
    hourly = await asyncio.to_thread(aapl.history, period="1mo", interval="1h")
    assert not hourly.empty
    opens = {(t.hour, t.minute) for t in hourly.index}
    assert opens <= {(9, 30), (10, 30), (11, 30), (12, 30), (13, 30), (14, 30), (15, 30)}
    assert (9, 30) in opens


async def test_minute_history_within_the_allowed_window_and_the_1m_limit(yf, yahoo_simulator):
    btc = ticker(yf, yahoo_simulator, "BTC-USD")
    end = datetime.now(UTC)
    minutes = await asyncio.to_thread(btc.history, start=end - timedelta(days=2), end=end, interval="1m")
    assert len(minutes) > 2 * 1440 - 10
    steps = minutes.index.to_series().diff().dropna()
    assert (steps == pd.Timedelta(minutes=1)).all()
    from yfinance.exceptions import YFPricesMissingError

    with pytest.raises(YFPricesMissingError, match="8 days"):
        await asyncio.to_thread(btc.history, start=end - timedelta(days=10), end=end, interval="1m")


async def test_search_finds_instruments_by_name(yf, yahoo_simulator):
    found = await asyncio.to_thread(yf.Search, "apple", session=simulator_session(yahoo_simulator.base_url),
                                    news_count=0)
    assert found.quotes[0]["symbol"] == "AAPL" and found.quotes[0]["exchDisp"] == "NASDAQ"


async def test_the_handshake_gives_yfinance_a_crumb_the_quote_endpoint_accepts(yf, yahoo_simulator):
    from yfinance.data import YfData

    data = YfData(session=simulator_session(yahoo_simulator.base_url))
    response = await asyncio.to_thread(data.get, "https://query1.finance.yahoo.com/v7/finance/quote",
                                       {"symbols": "AAPL,MSFT"})
    body = response.json()
    assert response.status_code == 200
    assert [q["symbol"] for q in body["quoteResponse"]["result"]] == ["AAPL", "MSFT"]
    assert yahoo_simulator.request_count("/v1/test/getcrumb") == 1 and yahoo_simulator.request_count("/") >= 1
    assert yahoo_simulator.stats["/v7/finance/quote"] == 1  # the crumb was accepted the first time
