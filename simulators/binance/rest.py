"""The public market-data REST endpoints of `/api/v3`, with their request weights.

Each endpoint is (weight of the request, answer); the server counts the weight before answering, so a
request that fails validation still costs its weight, as on Binance.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulators.binance import klines as kline_rows
from simulators.binance import params
from simulators.binance.errors import BinanceError, bad_combination, invalid_interval, invalid_value, known
from simulators.binance.faults import BinanceFaults
from simulators.binance.intervals import INTERVALS, KlineInterval, parse_time_zone
from simulators.binance.market import QUOTE_VOLUME, TRADES, VOLUME, BinanceMarket
from simulators.binance.symbols import BinanceSymbol, decimal_text, units
from simulators.common.pricepath import CLOSE, HIGH, LOW, OPEN, aggregate

Query = Mapping[str, str]
DEPTH_LIMITS = ((100, 5), (500, 25), (1000, 50), (5000, 250))
SYMBOL_STATUSES = ("TRADING", "HALT", "BREAK")


@dataclass(frozen=True)
class Endpoint:
    path: str
    weight: Callable[[Query], int]
    answer: Callable[[Query, int], Any]  # (query, now in ms) -> JSON body


class RestApi:
    def __init__(self, market: BinanceMarket, faults: BinanceFaults) -> None:
        self.market = market
        self.faults = faults
        self.depth_update_id = 1_000_000

    def endpoints(self) -> list[Endpoint]:
        return [
            Endpoint("/api/v3/ping", lambda q: 1, lambda q, now: {}),
            Endpoint("/api/v3/time", lambda q: 1, lambda q, now: {"serverTime": now}),
            Endpoint("/api/v3/exchangeInfo", lambda q: 20, self.exchange_info),
            Endpoint("/api/v3/klines", lambda q: 2, self.klines),
            Endpoint("/api/v3/aggTrades", lambda q: 4, self.agg_trades),
            Endpoint("/api/v3/uiKlines", lambda q: 2, self.klines),
            Endpoint("/api/v3/ticker/price", _price_weight, self.ticker_price),
            Endpoint("/api/v3/ticker/24hr", _ticker_weight, self.ticker_24hr),
            Endpoint("/api/v3/avgPrice", lambda q: 2, self.avg_price),
            Endpoint("/api/v3/depth", _depth_weight, self.depth),
        ]

    # --- symbols -------------------------------------------------------------------------------------

    def _spec(self, name: str) -> BinanceSymbol:
        return known(self.market.symbols, self.faults.unknown_symbols, name)

    def _selected(self, query: Query) -> list[BinanceSymbol]:
        """The symbols named by `symbol` or `symbols`, else all of them."""
        params.exclusive(query, "symbol", "symbols")
        one = params.symbol(query, required=False)
        if one is not None:
            return [self._spec(one)]
        many = params.symbols(query)
        if many is not None:
            return [self._spec(name) for name in many]
        return [s for s in self.market.symbols.values() if s.symbol not in self.faults.unknown_symbols]

    def exchange_info(self, query: Query, now: int) -> dict[str, Any]:
        selected = self._selected(query)
        status = query.get("symbolStatus")
        if status is not None:
            if status not in SYMBOL_STATUSES:
                raise invalid_value("symbolStatus")
            if "symbol" in query or "symbols" in query:
                raise bad_combination()
            selected = [s for s in selected if s.status == status]
        return {"timezone": "UTC", "serverTime": now, "rateLimits": self._rate_limits(), "exchangeFilters": [],
                "symbols": [_symbol_info(s) for s in selected]}

    def _rate_limits(self) -> list[dict[str, Any]]:
        window = self.faults.weight_window
        interval, number = ("MINUTE", max(1, int(window // 60))) if window >= 60 else ("SECOND", int(window))
        return [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": interval, "intervalNum": number,
             "limit": self.faults.weight_limit},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
            {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
        ]

    # --- klines --------------------------------------------------------------------------------------

    def klines(self, query: Query, now: int) -> list[list[object]]:
        name = params.symbol(query)
        assert name is not None
        spec = self._spec(name)
        interval = _interval(query)
        start, end = params.long(query, "startTime"), params.long(query, "endTime")
        limit = params.limit(query, default=500, maximum=1000)
        if start is not None and end is not None and start > end:
            return []
        rows = kline_rows.klines(self.market, spec, interval, start, end, limit, now)
        return [kline_rows.kline_array(k) for k in rows]

    # --- trades --------------------------------------------------------------------------------------

    def agg_trades(self, query: Query, now: int) -> list[dict[str, Any]]:
        """The live tape as aggregate trades, one trade each (`a` = `f` = `l` = the trade id): from `fromId`,
        or in [startTime, endTime] (less than an hour apart when both are given), or the newest `limit`."""
        name = params.symbol(query)
        assert name is not None
        trades = self.market.tapes[self._spec(name).symbol].trades
        limit = params.limit(query, default=500, maximum=1000)
        from_id, start, end = (params.long(query, key) for key in ("fromId", "startTime", "endTime"))
        if start is not None and end is not None and end - start >= 3_600_000:
            raise BinanceError(-1127, "More than 1 hours between startTime and endTime.")
        if from_id is not None:
            selected = [t for t in trades if t.id >= from_id][:limit]
        elif start is not None or end is not None:
            selected = [t for t in trades if (start is None or t.time_ms >= start)
                        and (end is None or t.time_ms <= end)][:limit]
        else:
            selected = trades[-limit:]
        return [{"a": t.id, "p": decimal_text(t.price), "q": decimal_text(t.quantity), "f": t.id, "l": t.id,
                 "T": t.time_ms, "m": t.buyer_maker, "M": True} for t in selected]

    # --- tickers -------------------------------------------------------------------------------------

    def _last_minutes(self, spec: BinanceSymbol, count: int, now: int) -> Any:
        stop = self.market.stop_minute(spec, now)
        first = max(self.market.first_minute(spec), stop - count)
        return self.market.minute_rows(spec, first, stop)

    def last_price(self, spec: BinanceSymbol, now: int) -> int:
        return int(self._last_minutes(spec, 1, now)[-1, CLOSE])

    def ticker_price(self, query: Query, now: int) -> Any:
        selected = self._selected(query)
        tickers = [{"symbol": s.symbol, "price": decimal_text(self.last_price(s, now))} for s in selected]
        return tickers[0] if "symbol" in query else tickers

    def ticker_24hr(self, query: Query, now: int) -> Any:
        selected = self._selected(query)
        tickers = [self._day_ticker(s, now) for s in selected]
        return tickers[0] if "symbol" in query else tickers

    def _day_ticker(self, spec: BinanceSymbol, now: int) -> dict[str, Any]:
        rows = self._last_minutes(spec, 1440, now)
        day = aggregate(rows, np.array([0]))[0]
        last, first_price = int(day[CLOSE]), int(day[OPEN])
        change = last - first_price
        volume = int(day[VOLUME])
        average = int(day[QUOTE_VOLUME]) * 10**8 // volume if volume else last
        first_id, last_id = self.market.trade_ids(spec, now - 86_400_000, now + 1)
        tick = spec.tick_units
        return {
            "symbol": spec.symbol, "priceChange": decimal_text(change),
            "priceChangePercent": f"{change * 100 / first_price:.3f}", "weightedAvgPrice": decimal_text(average),
            "prevClosePrice": decimal_text(first_price), "lastPrice": decimal_text(last),
            "lastQty": decimal_text(spec.step_units), "bidPrice": decimal_text(last - tick),
            "bidQty": decimal_text(spec.step_units * 10), "askPrice": decimal_text(last),
            "askQty": decimal_text(spec.step_units * 10), "openPrice": decimal_text(first_price),
            "highPrice": decimal_text(int(day[HIGH])), "lowPrice": decimal_text(int(day[LOW])),
            "volume": decimal_text(volume), "quoteVolume": decimal_text(int(day[QUOTE_VOLUME])),
            "openTime": now - 86_400_000, "closeTime": now, "firstId": first_id, "lastId": last_id,
            "count": int(day[TRADES]),
        }

    def avg_price(self, query: Query, now: int) -> dict[str, Any]:
        name = params.symbol(query)
        assert name is not None
        spec = self._spec(name)
        rows = self._last_minutes(spec, 5, now)
        volume = int(rows[:, VOLUME].sum())
        price = int(rows[:, QUOTE_VOLUME].sum()) * 10**8 // volume if volume else self.last_price(spec, now)
        return {"mins": 5, "price": decimal_text(price), "closeTime": now}

    def depth(self, query: Query, now: int) -> dict[str, Any]:
        name = params.symbol(query)
        assert name is not None
        spec = self._spec(name)
        limit = params.limit(query, default=100, maximum=5000)
        last, tick, step = self.last_price(spec, now), spec.tick_units, spec.step_units
        self.depth_update_id += 1
        levels = range(1, min(limit, 5000) + 1)
        return {"lastUpdateId": self.depth_update_id,
                "bids": [[decimal_text(last - k * tick), decimal_text(step * (k % 7 + 1) * 10)] for k in levels
                         if last - k * tick > 0],
                "asks": [[decimal_text(last + (k - 1) * tick), decimal_text(step * (k % 5 + 1) * 10)]
                         for k in levels]}


def _interval(query: Query) -> KlineInterval:
    name = params.required(query, "interval")
    if name not in INTERVALS:
        raise invalid_interval()
    offset = 0
    if "timeZone" in query:
        parsed = parse_time_zone(query["timeZone"])
        if parsed is None:
            raise invalid_value("timeZone")
        offset = parsed
    return KlineInterval(name, offset)


def _symbol_info(spec: BinanceSymbol) -> dict[str, Any]:
    return {
        "symbol": spec.symbol, "status": spec.status, "baseAsset": spec.base, "baseAssetPrecision": 8,
        "quoteAsset": spec.quote, "quotePrecision": 8, "quoteAssetPrecision": 8, "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT",
                       "TAKE_PROFIT_LIMIT"],
        "icebergAllowed": True, "ocoAllowed": True, "otoAllowed": True, "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": True, "cancelReplaceAllowed": True, "isSpotTradingAllowed": spec.status == "TRADING",
        "isMarginTradingAllowed": False, "filters": _filters(spec), "permissions": [],
        "permissionSets": [["SPOT"]], "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    }


def _filters(spec: BinanceSymbol) -> list[dict[str, Any]]:
    tick, step = spec.tick_units, spec.step_units
    return [
        {"filterType": "PRICE_FILTER", "minPrice": decimal_text(tick), "maxPrice": decimal_text(tick * 10**8),
         "tickSize": decimal_text(tick)},
        {"filterType": "LOT_SIZE", "minQty": decimal_text(step), "maxQty": decimal_text(9000 * 10**8),
         "stepSize": decimal_text(step)},
        {"filterType": "ICEBERG_PARTS", "limit": 10},
        {"filterType": "MARKET_LOT_SIZE", "minQty": decimal_text(0), "maxQty": decimal_text(100 * 10**8),
         "stepSize": decimal_text(0)},
        {"filterType": "TRAILING_DELTA", "minTrailingAboveDelta": 10, "maxTrailingAboveDelta": 2000,
         "minTrailingBelowDelta": 10, "maxTrailingBelowDelta": 2000},
        {"filterType": "PERCENT_PRICE_BY_SIDE", "bidMultiplierUp": "5", "bidMultiplierDown": "0.2",
         "askMultiplierUp": "5", "askMultiplierDown": "0.2", "avgPriceMins": 5},
        {"filterType": "NOTIONAL", "minNotional": decimal_text(units(spec.min_notional)), "applyMinToMarket": True,
         "maxNotional": decimal_text(9_000_000 * 10**8), "applyMaxToMarket": False, "avgPriceMins": 5},
        {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
        {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5},
    ]


def _price_weight(query: Query) -> int:
    return 2 if "symbol" in query else 4


def _ticker_weight(query: Query) -> int:
    if "symbol" in query:
        return 2
    if "symbols" not in query:
        return 80
    count = query["symbols"].count(",") + 1
    return 2 if count <= 20 else 40 if count <= 100 else 80


def _depth_weight(query: Query) -> int:
    try:
        limit = int(query.get("limit", "100"))
    except ValueError:
        return 5
    return next((weight for bound, weight in DEPTH_LIMITS if limit <= bound), 250)

