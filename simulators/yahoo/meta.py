"""What Yahoo says about an instrument beside its bars: the chart `meta` block and the live quote fields.

The market state follows the session: PRE, REGULAR, POST, then CLOSED (POSTPOST/PREPRE are not simulated).
"""

from datetime import datetime, timedelta
from typing import Any

import numpy as np

from simulators.common.pricepath import CLOSE, HIGH, LOW, OPEN, VOLUME, aggregate
from simulators.yahoo.calendars import Session
from simulators.yahoo.instruments import Instrument
from simulators.yahoo.market import YahooMarket


def _offset_and_name(inst: Instrument, moment: float) -> tuple[int, str]:
    local = datetime.fromtimestamp(moment, inst.calendar.zone)
    offset = local.utcoffset()
    return int(offset.total_seconds()) if offset else 0, local.tzname() or "UTC"


def _period(inst: Instrument, start: int, end: int) -> dict[str, Any]:
    offset, name = _offset_and_name(inst, start)
    return {"timezone": name, "start": start, "end": end, "gmtoffset": offset}


def current_session(inst: Instrument, now: float) -> Session | None:
    today = inst.calendar.session(inst.calendar.local_date(now))
    if today is not None:
        return today
    latest = inst.calendar.latest_sessions(now, 1, True)
    return latest[0] if latest else None


def current_trading_period(inst: Instrument, now: float) -> dict[str, Any]:
    session = current_session(inst, now)
    if session is None:
        return {}
    return {"pre": _period(inst, session.pre_start, session.start),
            "regular": _period(inst, session.start, session.end),
            "post": _period(inst, session.end, session.post_end)}


def trading_periods(inst: Instrument, sessions: list[Session], extended: bool) -> Any:
    regular = [[_period(inst, s.start, s.end)] for s in sessions]
    if not extended:
        return regular
    return {"pre": [[_period(inst, s.pre_start, s.start)] for s in sessions], "regular": regular,
            "post": [[_period(inst, s.end, s.post_end)] for s in sessions]}


def market_state(inst: Instrument, now: float) -> str:
    session = inst.calendar.session(inst.calendar.local_date(now))
    if session is None:
        return "CLOSED"
    if session.start <= now < session.end:
        return "REGULAR"
    if session.pre_start <= now < session.start:
        return "PRE"
    if session.end <= now < session.post_end:
        return "POST"
    return "CLOSED"


def snapshot_meta(inst: Instrument, market: YahooMarket, now: float) -> dict[str, Any]:
    """The meta fields that describe the instrument and its latest regular session."""
    offset, name = _offset_and_name(inst, now)
    latest = inst.calendar.latest_sessions(now, 1, False)
    day = market.session_bar(inst, latest[0], now) if latest else None
    scale = inst.intraday_ticks
    low, high = fifty_two_weeks(inst, market, now)
    first = inst.calendar.sessions(inst.first_trade, inst.first_trade + timedelta(days=10))
    return {
        "currency": inst.currency, "symbol": inst.symbol, "exchangeName": inst.exchange,
        "fullExchangeName": inst.full_exchange, "instrumentType": inst.quote_type,
        "firstTradeDate": next(first).start, "regularMarketTime": min(int(now), latest[0].end) if latest else None,
        "hasPrePostMarketData": latest[0].pre_start < latest[0].start if latest else False,
        "gmtoffset": offset, "timezone": name, "exchangeTimezoneName": inst.calendar.timezone,
        "regularMarketPrice": None if day is None else int(day[CLOSE]) / scale,
        "fiftyTwoWeekHigh": high, "fiftyTwoWeekLow": low,
        "regularMarketDayHigh": None if day is None else int(day[HIGH]) / scale,
        "regularMarketDayLow": None if day is None else int(day[LOW]) / scale,
        "regularMarketVolume": None if day is None else int(day[VOLUME]),
        "longName": inst.long_name, "shortName": inst.short_name,
    }


def fifty_two_weeks(inst: Instrument, market: YahooMarket, now: float) -> tuple[float | None, float | None]:
    today = inst.calendar.local_date(now)
    sessions = [s for s in inst.calendar.sessions(today - timedelta(days=365), today) if s.start <= now]
    rows = [r for r in (market.session_bar(inst, s, now) for s in sessions) if r is not None]
    if not rows:
        return None, None
    year = aggregate(np.array(rows), np.array([0]))[0]
    return int(year[LOW]) / inst.intraday_ticks, int(year[HIGH]) / inst.intraday_ticks


def quote(inst: Instrument, market: YahooMarket, now: float) -> dict[str, Any]:
    """One entry of `/v7/finance/quote`'s `quoteResponse.result`."""
    meta = snapshot_meta(inst, market, now)
    latest = inst.calendar.latest_sessions(now, 2, False)
    previous = market.last_close(inst, latest[0], now) if len(latest) == 2 else None
    day = market.session_bar(inst, latest[-1], now) if latest else None
    price = meta["regularMarketPrice"]
    tick = 1 / inst.intraday_ticks
    offset, name = meta["gmtoffset"], meta["timezone"]
    change = None if price is None or previous is None else round(price - previous, 6)
    return {
        "language": "en-US", "region": "US", "quoteType": inst.quote_type, "typeDisp": inst.type_display,
        "quoteSourceName": "Delayed Quote", "triggerable": True, "currency": inst.currency,
        "exchange": inst.exchange, "shortName": inst.short_name, "longName": inst.long_name,
        "market": _market_name(inst), "marketState": market_state(inst, now),
        "exchangeTimezoneName": inst.calendar.timezone, "exchangeTimezoneShortName": name,
        "gmtOffSetMilliseconds": offset * 1000, "fullExchangeName": inst.full_exchange, "priceHint": inst.price_hint,
        "firstTradeDateMilliseconds": meta["firstTradeDate"] * 1000, "tradeable": False, "sourceInterval": 15,
        "exchangeDataDelayedBy": 0, "regularMarketPrice": price, "regularMarketTime": meta["regularMarketTime"],
        "regularMarketVolume": meta["regularMarketVolume"], "regularMarketDayHigh": meta["regularMarketDayHigh"],
        "regularMarketDayLow": meta["regularMarketDayLow"],
        "regularMarketOpen": None if day is None else int(day[OPEN]) / inst.intraday_ticks,
        "regularMarketPreviousClose": previous, "regularMarketChange": change,
        "regularMarketChangePercent": None if change is None or not previous else round(change / previous * 100, 6),
        "bid": None if price is None else round(price - tick, inst.price_hint), "bidSize": 10,
        "ask": None if price is None else round(price + tick, inst.price_hint), "askSize": 10,
        "fiftyTwoWeekHigh": meta["fiftyTwoWeekHigh"], "fiftyTwoWeekLow": meta["fiftyTwoWeekLow"],
        "symbol": inst.symbol,
    }


def _market_name(inst: Instrument) -> str:
    return {"CCC": "ccc_market", "LSE": "gb_market"}.get(inst.exchange, "us_market")
