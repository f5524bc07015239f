"""The Binance simulator's REST API over real sockets: paging edges, aggregates, errors, weights, 429/418."""

import asyncio
import time
from decimal import Decimal

import aiohttp
import pytest

from simulators.binance import BinanceSimulator

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]
MINUTE = 60_000


async def get(sim: BinanceSimulator, path: str, **params: object) -> tuple[int, dict[str, str], object]:
    async with aiohttp.ClientSession() as http, http.get(
            sim.api_url + path, params={k: str(v) for k, v in params.items()}) as response:
        return response.status, dict(response.headers), await response.json(content_type=None)


async def klines(sim: BinanceSimulator, **params: object) -> list[list[object]]:
    status, _, body = await get(sim, "/v3/klines", **params)
    assert status == 200, body
    assert isinstance(body, list)
    return body


def reference_aggregate(rows: list[list[object]]) -> list[object]:
    """Open, high, low, close, volume, quote volume, trades, taker base, taker quote of consecutive klines."""
    d = [[Decimal(str(v)) for v in r[1:6]] + [Decimal(str(r[7])), r[8], Decimal(str(r[9])), Decimal(str(r[10]))]
         for r in rows]
    return [d[0][0], max(r[1] for r in d), min(r[2] for r in d), d[-1][3], sum(r[4] for r in d),
            sum(r[5] for r in d), sum(r[6] for r in d), sum(r[7] for r in d), sum(r[8] for r in d)]


def as_numbers(row: list[object]) -> list[object]:
    return [Decimal(str(v)) for v in row[1:6]] + [Decimal(str(row[7])), row[8], Decimal(str(row[9])),
                                                   Decimal(str(row[10]))]


async def test_a_kline_is_the_twelve_element_array_with_strings_for_prices_and_quantities(binance_simulator):
    row = (await klines(binance_simulator, symbol="BTCUSDT", interval="1h", limit=1))[0]
    assert len(row) == 12
    assert [type(v) for v in row] == [int, str, str, str, str, str, int, str, int, str, str, str]
    assert row[6] == row[0] + 3_600_000 - 1 and row[11] == "0"
    assert all(len(str(v).split(".")[1]) == 8 for v in row[1:6])


async def test_without_times_the_newest_limit_bars_end_with_the_forming_one(binance_simulator):
    rows = await klines(binance_simulator, symbol="BTCUSDT", interval="1m")
    now = int(time.time() * 1000)
    assert len(rows) == 500
    assert rows[-1][0] == now // MINUTE * MINUTE or rows[-1][0] == (now // MINUTE - 1) * MINUTE
    assert [r[0] for r in rows] == list(range(rows[0][0], rows[-1][0] + 1, MINUTE))


async def test_start_time_is_inclusive_on_the_open_time_and_a_mid_bar_start_skips_that_bar(binance_simulator):
    anchor = (await klines(binance_simulator, symbol="ETHUSDT", interval="1h", limit=10))[0][0]
    exact = await klines(binance_simulator, symbol="ETHUSDT", interval="1h", startTime=anchor, limit=3)
    inside = await klines(binance_simulator, symbol="ETHUSDT", interval="1h", startTime=anchor + 1, limit=3)
    assert [r[0] for r in exact] == [anchor, anchor + 3_600_000, anchor + 7_200_000]
    assert inside[0][0] == anchor + 3_600_000


async def test_end_time_is_inclusive_and_alone_selects_the_newest_limit_bars_before_it(binance_simulator):
    anchor = (await klines(binance_simulator, symbol="ETHUSDT", interval="5m", limit=100))[50][0]
    rows = await klines(binance_simulator, symbol="ETHUSDT", interval="5m", endTime=anchor, limit=4)
    assert [r[0] for r in rows] == [anchor - 15 * MINUTE, anchor - 10 * MINUTE, anchor - 5 * MINUTE, anchor]
    bounded = await klines(binance_simulator, symbol="ETHUSDT", interval="5m", startTime=anchor - 60 * MINUTE,
                           endTime=anchor - 1, limit=1000)
    assert bounded[0][0] == anchor - 60 * MINUTE and bounded[-1][0] == anchor - 5 * MINUTE and len(bounded) == 12


async def test_history_starts_at_the_listing_and_a_delisted_symbol_stops_at_its_break(binance_simulator):
    first = await klines(binance_simulator, symbol="BTCUSDT", interval="1m", startTime=0, limit=1)
    assert first[0][0] == 1_502_942_400_000
    monthly = await klines(binance_simulator, symbol="BTCUSDT", interval="1M", startTime=0, limit=2)
    assert [r[0] for r in monthly] == [1_501_545_600_000, 1_504_224_000_000]  # 2017-08-01, 2017-09-01
    last = await klines(binance_simulator, symbol="BCCUSDT", interval="1m", limit=1)
    assert last[0][0] == 1_542_240_000_000 - MINUTE


async def test_paging_forward_by_the_last_open_time_covers_every_bar_once(binance_simulator):
    start = int(time.time() * 1000) - 2_500 * MINUTE
    seen: list[int] = []
    while True:
        page = await klines(binance_simulator, symbol="SOLUSDT", interval="1m", startTime=start, limit=1000)
        seen += [r[0] for r in page]
        if len(page) < 1000:
            break
        start = page[-1][0] + MINUTE
    assert seen == list(range(seen[0], seen[-1] + 1, MINUTE)) and len(seen) >= 2_500


@pytest.mark.parametrize(("coarse", "fine", "count"), [("5m", "1m", 5), ("1h", "1m", 60), ("4h", "15m", 16),
                                                       ("1d", "1h", 24), ("1w", "1d", 7), ("1m", "1s", 60)])
async def test_a_coarse_kline_is_the_exact_aggregate_of_its_finer_klines(binance_simulator, coarse, fine, count):
    newest = await klines(binance_simulator, symbol="BNBUSDT", interval=coarse, limit=3)
    bar = newest[0]
    parts = await klines(binance_simulator, symbol="BNBUSDT", interval=fine, startTime=bar[0], endTime=bar[6],
                         limit=1000)
    assert len(parts) == count
    assert as_numbers(bar) == reference_aggregate(parts)


async def test_a_month_is_the_aggregate_of_its_days(binance_simulator):
    month = (await klines(binance_simulator, symbol="ETHBTC", interval="1M", limit=3))[0]
    days = await klines(binance_simulator, symbol="ETHBTC", interval="1d", startTime=month[0], endTime=month[6])
    assert 28 <= len(days) <= 31
    assert as_numbers(month) == reference_aggregate(days)


async def test_time_zone_shifts_the_daily_open_but_not_start_and_end_times(binance_simulator):
    rows = await klines(binance_simulator, symbol="BTCUSDT", interval="1d", timeZone="+08:00", limit=2)
    assert all((r[0] + 8 * 3_600_000) % 86_400_000 == 0 for r in rows)
    status, _, body = await get(binance_simulator, "/v3/klines", symbol="BTCUSDT", interval="1d", timeZone="+15:00")
    assert status == 400 and body["code"] == -1130


@pytest.mark.parametrize(("params", "code"), [
    ({"symbol": "NOPEUSDT", "interval": "1m"}, -1121),
    ({"symbol": "btcusdt", "interval": "1m"}, -1100),
    ({"interval": "1m"}, -1102),
    ({"symbol": "BTCUSDT"}, -1102),
    ({"symbol": "BTCUSDT", "interval": "7m"}, -1120),
    ({"symbol": "BTCUSDT", "interval": "1m", "limit": 1001}, -1130),
    ({"symbol": "BTCUSDT", "interval": "1m", "limit": 0}, -1130),
    ({"symbol": "BTCUSDT", "interval": "1m", "startTime": "yesterday"}, -1100),
])
async def test_bad_kline_requests_get_binance_error_codes_with_http_400(binance_simulator, params, code):
    status, headers, body = await get(binance_simulator, "/v3/klines", **params)
    assert status == 400
    assert set(body) == {"code", "msg"} and body["code"] == code
    assert headers["Content-Type"].startswith("application/json")


async def test_a_limit_of_1000_is_accepted(binance_simulator):
    assert len(await klines(binance_simulator, symbol="BTCUSDT", interval="1m", limit=1000)) == 1000


async def test_a_symbol_switched_unknown_is_answered_as_invalid(binance_simulator):
    binance_simulator.faults.unknown_symbols = {"ETHUSDT"}
    status, _, body = await get(binance_simulator, "/v3/ticker/price", symbol="ETHUSDT")
    assert (status, body) == (400, {"code": -1121, "msg": "Invalid symbol."})


async def test_exchange_info_lists_statuses_filters_and_the_weight_limit(binance_simulator):
    _, _, everything = await get(binance_simulator, "/v3/exchangeInfo")
    statuses = {s["symbol"]: s["status"] for s in everything["symbols"]}
    assert statuses["BTCUSDT"] == "TRADING" and statuses["BCCUSDT"] == "BREAK" and statuses["LUNAUSDT"] == "HALT"
    assert everything["rateLimits"][0] == {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE",
                                           "intervalNum": 1, "limit": 6000}
    _, _, two = await get(binance_simulator, "/v3/exchangeInfo", symbols='["BTCUSDT","ETHBTC"]')
    assert [s["symbol"] for s in two["symbols"]] == ["BTCUSDT", "ETHBTC"]
    btc = two["symbols"][0]
    assert (btc["baseAsset"], btc["quoteAsset"]) == ("BTC", "USDT")
    price_filter = next(f for f in btc["filters"] if f["filterType"] == "PRICE_FILTER")
    assert price_filter["tickSize"] == "0.01000000"
    _, _, trading = await get(binance_simulator, "/v3/exchangeInfo", symbolStatus="TRADING")
    assert {s["status"] for s in trading["symbols"]} == {"TRADING"}
    status, _, body = await get(binance_simulator, "/v3/exchangeInfo", symbol="NOPE")
    assert (status, body["code"]) == (400, -1121)


async def test_tickers_average_price_depth_ping_and_time_have_binance_shapes(binance_simulator):
    last = (await klines(binance_simulator, symbol="BTCUSDT", interval="1m", limit=1))[0][4]
    _, _, price = await get(binance_simulator, "/v3/ticker/price", symbol="BTCUSDT")
    assert price == {"symbol": "BTCUSDT", "price": last}
    _, _, prices = await get(binance_simulator, "/v3/ticker/price")
    assert isinstance(prices, list) and len(prices) == 7
    _, _, day = await get(binance_simulator, "/v3/ticker/24hr", symbol="BTCUSDT")
    assert day["lastPrice"] == last and {"openTime", "closeTime", "count", "firstId", "lastId"} <= set(day)
    _, _, average = await get(binance_simulator, "/v3/avgPrice", symbol="BTCUSDT")
    assert average["mins"] == 5 and Decimal(average["price"]) > 0
    _, _, book = await get(binance_simulator, "/v3/depth", symbol="BTCUSDT", limit=5)
    assert len(book["bids"]) == 5 and Decimal(book["bids"][0][0]) < Decimal(book["asks"][0][0])
    assert (await get(binance_simulator, "/v3/ping"))[2] == {}
    assert abs((await get(binance_simulator, "/v3/time"))[2]["serverTime"] - time.time() * 1000) < 5_000


async def test_every_answer_carries_the_used_weight_of_the_minute(binance_simulator):
    _, first, _ = await get(binance_simulator, "/v3/klines", symbol="BTCUSDT", interval="1m", limit=1)
    _, second, _ = await get(binance_simulator, "/v3/exchangeInfo")
    _, third, _ = await get(binance_simulator, "/v3/klines", symbol="NOPE", interval="1m")
    assert first["X-MBX-USED-WEIGHT-1M"] == first["X-MBX-USED-WEIGHT"] == "2"
    assert second["X-MBX-USED-WEIGHT-1M"] == "22"
    assert third["X-MBX-USED-WEIGHT-1M"] == "24"  # a rejected request still costs its weight
    assert binance_simulator.used_weight("127.0.0.1") == 24


async def test_over_the_limit_is_429_with_retry_after_and_insisting_is_a_418_ban(binance_simulator):
    binance_simulator.faults.update({"weight_limit": 4, "ban_after": 2, "ban_seconds": 1.5})
    statuses = [(await get(binance_simulator, "/v3/ping"))[0] for _ in range(4)]
    assert statuses == [200] * 4
    status, headers, body = await get(binance_simulator, "/v3/ping")
    assert status == 429 and body["code"] == -1003 and "request weight" in body["msg"]
    assert 1 <= int(headers["Retry-After"]) <= 60
    await get(binance_simulator, "/v3/ping")
    status, headers, body = await get(binance_simulator, "/v3/ping")
    assert status == 418 and body["code"] == -1003 and "IP banned until" in body["msg"]
    assert int(headers["Retry-After"]) in (1, 2)
    binance_simulator.faults.weight_limit = 6000
    assert (await get(binance_simulator, "/v3/ping"))[0] == 418  # still banned, whatever the weight
    await asyncio.sleep(1.6)
    assert (await get(binance_simulator, "/v3/ping"))[0] == 200


async def test_the_weight_window_resets_on_its_boundary(binance_simulator):
    binance_simulator.faults.update({"weight_limit": 1, "weight_window": 1.0})
    await asyncio.sleep(1 - time.time() % 1)
    assert (await get(binance_simulator, "/v3/ping"))[0] == 200
    status, headers, _ = await get(binance_simulator, "/v3/ping")
    assert status == 429 and "X-MBX-USED-WEIGHT-1S" in headers
    await asyncio.sleep(1.05 - time.time() % 1)
    assert (await get(binance_simulator, "/v3/ping"))[0] == 200


@pytest.mark.parametrize("forced", [429, 418])
async def test_a_forced_status_answers_every_request_so(binance_simulator, forced):
    binance_simulator.faults.force_status = forced
    status, headers, body = await get(binance_simulator, "/v3/time")
    assert status == forced and body["code"] == -1003 and "Retry-After" in headers


async def test_the_error_rate_answers_503_server_busy(binance_simulator):
    binance_simulator.faults.error_rate = 1.0
    status, _, body = await get(binance_simulator, "/v3/time")
    assert (status, body["code"]) == (503, -1008)


async def test_a_hanging_simulator_never_answers_until_released(binance_simulator):
    binance_simulator.faults.hang = True
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.3):
            await get(binance_simulator, "/v3/time")
    binance_simulator.faults.hang = False
    assert (await get(binance_simulator, "/v3/time"))[0] == 200


async def test_latency_delays_every_answer(binance_simulator):
    binance_simulator.faults.latency = 0.2
    started = time.monotonic()
    await get(binance_simulator, "/v3/ping")
    assert time.monotonic() - started >= 0.2


async def test_requests_are_counted_per_endpoint_and_switches_are_set_over_http(binance_simulator):
    await get(binance_simulator, "/v3/klines", symbol="BTCUSDT", interval="1m", limit=1)
    await get(binance_simulator, "/v3/klines", symbol="BTCUSDT", interval="1m", limit=1)
    await get(binance_simulator, "/v3/ping")
    async with aiohttp.ClientSession() as http:
        async with http.get(binance_simulator.base_url + "/_sim/stats") as response:
            stats = await response.json()
        async with http.post(binance_simulator.base_url + "/_sim/faults", json={"weight_limit": 7}) as response:
            assert (await response.json())["weight_limit"] == 7
        async with http.post(binance_simulator.base_url + "/_sim/faults", json={"nonsense": 1}) as response:
            assert response.status == 400
    assert stats["requests"] == {"/api/v3/klines": 2, "/api/v3/ping": 1}
    assert binance_simulator.request_count("/api/v3/klines") == 2
    assert binance_simulator.faults.weight_limit == 7


async def test_agg_trades_serve_the_live_tape_by_id_by_time_and_newest(binance_simulator):
    trades = [await binance_simulator.push_trade("BTCUSDT", f"6000{i}.00", "0.5") for i in range(5)]
    status, headers, newest = await get(binance_simulator, "/v3/aggTrades", symbol="BTCUSDT", limit=2)
    assert status == 200 and [t["a"] for t in newest] == [trades[3].id, trades[4].id]
    assert list(newest[0]) == ["a", "p", "q", "f", "l", "T", "m", "M"] and newest[0]["f"] == newest[0]["l"]
    _, _, by_id = await get(binance_simulator, "/v3/aggTrades", symbol="BTCUSDT", fromId=trades[1].id, limit=3)
    assert [(t["a"], t["p"], t["q"]) for t in by_id] == [(t.id, f"6000{i + 1}.00000000", "0.50000000")
                                                          for i, t in enumerate(trades[1:4])]
    _, _, by_time = await get(binance_simulator, "/v3/aggTrades", symbol="BTCUSDT", startTime=trades[2].time_ms)
    assert by_time[0]["a"] <= trades[2].id and by_time[-1]["a"] == trades[4].id
    status, _, error = await get(binance_simulator, "/v3/aggTrades", symbol="BTCUSDT", startTime=0,
                                 endTime=3_600_000)
    assert status == 400 and error["code"] == -1127
    assert int(headers["X-MBX-USED-WEIGHT-1M"]) == 4
