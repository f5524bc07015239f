"""The Yahoo simulator's chart, search and quote endpoints over real sockets, at a fixed clock
(Tuesday 2025-12-02 10:00 New York): sessions, holidays, half days, DST, limits, errors, crumb, rate limit."""

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from simulators.yahoo import YahooSimulator

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]
NOW = datetime(2025, 12, 2, 15, 0, tzinfo=UTC).timestamp()
NEW_YORK, LONDON = ZoneInfo("America/New_York"), ZoneInfo("Europe/London")


def epoch(day: str, zone: ZoneInfo = NEW_YORK, hour: int = 0, minute: int = 0) -> int:
    return int(datetime.combine(date.fromisoformat(day), datetime.min.time(), zone)
               .replace(hour=hour, minute=minute).timestamp())


@pytest.fixture
async def sim():
    simulator = YahooSimulator(clock=lambda: NOW)
    await simulator.start("127.0.0.1", 0)
    try:
        yield simulator
    finally:
        await simulator.stop()


async def fetch(sim: YahooSimulator, path: str, **params: Any) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.get(
            sim.base_url + path, params={k: str(v) for k, v in params.items()}) as response:
        text = await response.text()
        try:
            return response.status, await response.json(content_type=None)
        except ValueError:
            return response.status, text


async def chart(sim: YahooSimulator, symbol: str, **params: Any) -> dict[str, Any]:
    status, body = await fetch(sim, f"/v8/finance/chart/{symbol}", **params)
    assert status == 200, body
    assert body["chart"]["error"] is None
    result: dict[str, Any] = body["chart"]["result"][0]
    return result


def local_times(result: dict[str, Any], zone: ZoneInfo) -> list[str]:
    return [datetime.fromtimestamp(t, zone).strftime("%H:%M") for t in result.get("timestamp", [])]


def aggregate(quote: dict[str, list[Any]], indices: list[int]) -> list[Any]:
    rows = [i for i in indices if quote["open"][i] is not None]
    return [quote["open"][rows[0]], max(quote["high"][i] for i in rows), min(quote["low"][i] for i in rows),
            quote["close"][rows[-1]], sum(quote["volume"][i] for i in rows)]


async def test_the_response_has_yahoos_shape(sim):
    result = await chart(sim, "AAPL", range="5d", interval="1d")
    assert set(result) == {"meta", "timestamp", "indicators"}
    meta = result["meta"]
    for key in ("currency", "symbol", "exchangeName", "fullExchangeName", "instrumentType", "firstTradeDate",
                "regularMarketTime", "gmtoffset", "timezone", "exchangeTimezoneName", "regularMarketPrice",
                "chartPreviousClose", "priceHint", "currentTradingPeriod", "dataGranularity", "range",
                "validRanges"):
        assert key in meta, key
    assert (meta["exchangeName"], meta["instrumentType"], meta["timezone"], meta["gmtoffset"]) == (
        "NMS", "EQUITY", "EST", -18_000)
    assert set(meta["currentTradingPeriod"]) == {"pre", "regular", "post"}
    assert meta["currentTradingPeriod"]["regular"]["start"] == epoch("2025-12-02", hour=9, minute=30)
    assert set(result["indicators"]["quote"][0]) == {"open", "high", "low", "close", "volume"}
    assert len(result["indicators"]["adjclose"][0]["adjclose"]) == len(result["timestamp"]) == 5
    assert result["timestamp"][-1] == epoch("2025-12-02", hour=9, minute=30)  # today's forming bar, at the open


async def test_a_regular_day_has_390_minutes_from_the_open_and_no_adjclose(sim):
    result = await chart(sim, "AAPL", interval="1m", period1=epoch("2025-12-01"), period2=epoch("2025-12-02"))
    times = local_times(result, NEW_YORK)
    assert len(times) == 390 and times[0] == "09:30" and times[-1] == "15:59"
    assert "adjclose" not in result["indicators"]
    assert result["meta"]["tradingPeriods"] == [[{"timezone": "EST", "start": epoch("2025-12-01", hour=9, minute=30),
                                                  "end": epoch("2025-12-01", hour=16), "gmtoffset": -18_000}]]


async def test_thanksgiving_has_no_bars_and_the_day_after_closes_at_one(sim):
    result = await chart(sim, "AAPL", interval="30m", period1=epoch("2025-11-27"), period2=epoch("2025-11-29"))
    days = {datetime.fromtimestamp(t, NEW_YORK).date().isoformat() for t in result["timestamp"]}
    assert days == {"2025-11-28"}
    assert local_times(result, NEW_YORK) == ["09:30", "10:00", "10:30", "11:00", "11:30", "12:00", "12:30"]


async def test_hourly_bars_open_at_half_past_on_both_sides_of_the_dst_change(sim):
    result = await chart(sim, "AAPL", interval="1h", period1=epoch("2025-10-31"), period2=epoch("2025-11-04"))
    times = local_times(result, NEW_YORK)
    assert times == ["09:30", "10:30", "11:30", "12:30", "13:30", "14:30", "15:30"] * 2
    utc_hours = {datetime.fromtimestamp(t, UTC).hour for t in result["timestamp"][:1] + result["timestamp"][7:8]}
    assert utc_hours == {13, 14}  # EDT before November 2nd, EST after


async def test_pre_and_post_market_bars_come_with_include_pre_post(sim):
    result = await chart(sim, "AAPL", interval="1h", includePrePost="true", period1=epoch("2025-12-01"),
                         period2=epoch("2025-12-02"))
    times = local_times(result, NEW_YORK)
    assert times[0] == "04:00" and "09:00" in times and "09:30" in times and times[-1] == "19:00"
    assert set(result["meta"]["tradingPeriods"]) == {"pre", "regular", "post"}


async def test_london_trades_from_eight_to_half_past_four_with_quiet_minutes_as_nulls(sim):
    result = await chart(sim, "VOD.L", interval="1m", period1=epoch("2025-12-01", LONDON),
                         period2=epoch("2025-12-02", LONDON))
    times = local_times(result, LONDON)
    assert times[0] == "08:00" and times[-1] == "16:29" and len(times) == 510
    quote = result["indicators"]["quote"][0]
    empty = [i for i, v in enumerate(quote["close"]) if v is None]
    assert empty and all(quote[k][i] is None for i in empty for k in ("open", "high", "low", "volume"))
    assert result["meta"]["currency"] == "GBp" and result["meta"]["exchangeTimezoneName"] == "Europe/London"
    daily = await chart(sim, "VOD.L", interval="1d", period1=epoch("2025-12-01", LONDON),
                        period2=epoch("2025-12-02", LONDON))
    assert local_times(daily, LONDON) == ["08:00"]
    assert [daily["indicators"]["quote"][0][k][0] for k in ("open", "high", "low", "close", "volume")] == \
        aggregate(quote, list(range(len(times))))


async def test_an_hour_is_the_aggregate_of_its_minutes_and_a_week_of_its_days(sim):
    window = {"period1": epoch("2025-12-01"), "period2": epoch("2025-12-02")}
    minutes = (await chart(sim, "MSFT", interval="1m", **window))["indicators"]["quote"][0]
    hours = (await chart(sim, "MSFT", interval="1h", **window))["indicators"]["quote"][0]
    assert [hours[k][1] for k in ("open", "high", "low", "close", "volume")] == aggregate(minutes, list(range(60, 120)))
    week = {"period1": epoch("2025-11-17"), "period2": epoch("2025-11-22")}
    days = (await chart(sim, "MSFT", interval="1d", **week))["indicators"]["quote"][0]
    weekly = await chart(sim, "MSFT", interval="1wk", **week)
    assert local_times(weekly, NEW_YORK) == ["00:00"]
    assert [weekly["indicators"]["quote"][0][k][0] for k in ("open", "high", "low", "close", "volume")] == \
        aggregate(days, list(range(5)))


async def test_crypto_trades_every_day_from_midnight_utc(sim):
    result = await chart(sim, "BTC-USD", interval="1d", period1=epoch("2025-11-29", UTC),
                         period2=epoch("2025-12-01", UTC))
    assert result["timestamp"] == [epoch("2025-11-29", UTC), epoch("2025-11-30", UTC)]  # a weekend
    assert result["meta"]["instrumentType"] == "CRYPTOCURRENCY" and result["meta"]["exchangeTimezoneName"] == "UTC"


async def test_an_index_has_no_volume_and_an_etf_pays_dividends(sim):
    index = await chart(sim, "^GSPC", interval="1d", range="1mo")
    assert set(index["indicators"]["quote"][0]["volume"]) == {0}
    assert index["meta"]["instrumentType"] == "INDEX"
    etf = await chart(sim, "SPY", interval="1d", range="1y", events="div,splits")
    assert etf["meta"]["instrumentType"] == "ETF" and len(etf["events"]["dividends"]) == 4


async def test_a_split_is_an_event_and_prices_are_served_split_adjusted(sim):
    result = await chart(sim, "AAPL", interval="1d", period1=epoch("2020-08-24"), period2=epoch("2020-09-05"),
                         events="div|split")
    split = result["events"]["splits"][str(epoch("2020-08-31", hour=9, minute=30))]
    assert split == {"date": epoch("2020-08-31", hour=9, minute=30), "numerator": 4.0, "denominator": 1.0,
                     "splitRatio": "4:1"}
    closes = result["indicators"]["quote"][0]["close"]
    assert max(closes) / min(closes) < 1.5  # no 4x jump: history is split-adjusted


async def test_adjclose_applies_every_later_dividend_to_earlier_closes(sim):
    result = await chart(sim, "AAPL", interval="1d", range="1y", events="div")
    closes = result["indicators"]["quote"][0]["close"]
    adjusted = result["indicators"]["adjclose"][0]["adjclose"]
    stamps = result["timestamp"]
    ex_indices = [stamps.index(int(key)) for key in result["events"]["dividends"]]
    for i, close in enumerate(closes):
        factor = Decimal(1)
        for ex in ex_indices:
            if ex > i:
                factor *= 1 - Decimal("0.25") / Decimal(str(closes[ex - 1]))
        assert abs(Decimal(str(adjusted[i])) - Decimal(str(close)) * factor) < Decimal("0.00001")


@pytest.mark.parametrize(("interval", "first", "last", "message"), [
    ("1m", "2025-10-20", "2025-10-22", "The requested range must be within the last 30 days."),
    ("1m", "2025-11-10", "2025-11-20", "Only 8 days worth of 1m granularity data are allowed to be fetched"),
    ("5m", "2025-09-01", "2025-09-03", "The requested range must be within the last 60 days."),
    ("1h", "2023-11-01", "2023-11-03", "The requested range must be within the last 730 days."),
])
async def test_intraday_ranges_past_yahoos_limits_are_unprocessable(sim, interval, first, last, message):
    status, body = await fetch(sim, "/v8/finance/chart/AAPL", interval=interval, period1=epoch(first),
                               period2=epoch(last))
    assert status == 422
    assert body["chart"]["result"] is None and body["chart"]["error"]["code"] == "Unprocessable Entity"
    assert message in body["chart"]["error"]["description"]
    assert body["chart"]["error"]["description"].startswith(f"{interval} data not available for startTime=")


async def test_an_unknown_symbol_is_not_found_and_a_bad_interval_a_bad_request(sim):
    status, body = await fetch(sim, "/v8/finance/chart/NOPE", interval="1d")
    assert status == 404
    assert body == {"chart": {"result": None, "error": {"code": "Not Found",
                                                        "description": "No data found, symbol may be delisted"}}}
    sim.faults.unknown_symbols = {"MSFT"}
    assert (await fetch(sim, "/v8/finance/chart/MSFT"))[0] == 404
    status, body = await fetch(sim, "/v8/finance/chart/AAPL", interval="7m")
    assert status == 400 and "interval=7m" in body["chart"]["error"]["description"]


async def test_a_window_without_sessions_has_meta_and_an_empty_quote(sim):
    result = await chart(sim, "AAPL", interval="1d", period1=epoch("2025-11-29"), period2=epoch("2025-11-30"))
    assert "timestamp" not in result and result["indicators"]["quote"] == [{}]


async def test_the_crumb_handshake_and_its_failure(sim):
    status, body = await fetch(sim, "/v7/finance/quote", symbols="AAPL")
    assert (status, body) == (401, {"finance": {"result": None, "error": {"code": "Unauthorized",
                                                                          "description": "Invalid Crumb"}}})
    sim.faults.require_crumb = "all"
    assert (await fetch(sim, "/v8/finance/chart/AAPL"))[0] == 401
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(sim.base_url + "/") as page:
            assert page.status == 404 and "A3" in page.cookies
        async with http.get(sim.base_url + "/v1/test/getcrumb") as answer:
            crumb = await answer.text()
        async with http.get(sim.base_url + "/v8/finance/chart/AAPL", params={"crumb": crumb}) as response:
            assert response.status == 200
        async with http.get(sim.base_url + "/v8/finance/chart/AAPL", params={"crumb": "stale"}) as response:
            assert response.status == 401
    status, _ = await fetch(sim, "/v1/test/getcrumb")
    assert status == 401  # no cookie, no crumb


async def test_quotes_report_price_time_volume_bid_ask_and_market_state(sim):
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        await http.get(sim.base_url + "/")
        crumb = await (await http.get(sim.base_url + "/v1/test/getcrumb")).text()
        async with http.get(sim.base_url + "/v7/finance/quote",
                            params={"symbols": "AAPL,BTC-USD,NOPE", "crumb": crumb}) as response:
            body = await response.json()
    aapl, btc = body["quoteResponse"]["result"]
    assert (aapl["symbol"], aapl["marketState"], btc["marketState"]) == ("AAPL", "REGULAR", "REGULAR")
    assert aapl["regularMarketTime"] == int(NOW) and aapl["bid"] < aapl["regularMarketPrice"] < aapl["ask"]
    today = await chart(sim, "AAPL", interval="1d", range="1d")
    assert aapl["regularMarketPrice"] == today["indicators"]["quote"][0]["close"][-1]
    assert aapl["regularMarketVolume"] == today["indicators"]["quote"][0]["volume"][-1]


async def test_search_matches_symbols_and_names(sim):
    status, body = await fetch(sim, "/v1/finance/search", q="btc")
    assert status == 200 and body["quotes"][0]["symbol"] == "BTC-USD"
    assert set(body["quotes"][0]) >= {"symbol", "shortname", "longname", "exchange", "quoteType", "exchDisp",
                                      "typeDisp"}
    assert [q["symbol"] for q in (await fetch(sim, "/v1/finance/search", q="micro"))[1]["quotes"]] == ["MSFT"]
    assert (await fetch(sim, "/v1/finance/search"))[0] == 400


async def test_rate_limit_answers_429_too_many_requests_in_plain_text(sim):
    sim.faults.update({"rate_limit": 2, "rate_window": 60.0})
    assert [(await fetch(sim, "/v1/finance/search", q="a"))[0] for _ in range(2)] == [200, 200]
    status, body = await fetch(sim, "/v1/finance/search", q="a")
    assert status == 429 and body.startswith("Too Many Requests")


async def test_outages_answer_the_will_be_right_back_page_and_hangs_never_answer(sim):
    sim.faults.error_rate = 1.0
    status, body = await fetch(sim, "/v8/finance/chart/AAPL")
    assert status == 503 and "Will be right back" in body
    sim.faults.update({"error_rate": 0.0, "hang": True})
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.3):
            await fetch(sim, "/v8/finance/chart/AAPL")
