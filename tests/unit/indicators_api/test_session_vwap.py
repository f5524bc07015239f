"""VWAP of a session symbol is anchored at each of its sessions' opens, from the symbol's stored calendar: its
metadata fetched once (`GET /symbols/.../sessions`), then the indicator read over HTTP equals pandas grouping
the bars by trading day. The symbol is a future trading 18:00-17:00 New York, so its sessions span UTC
midnight and a UTC-day anchor (the 24x7 calendar) would give other values."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from src.common.ports import SymbolInfo
from src.domain.market_data import Interval, OHLCVBar, SeriesKey, Symbol
from tests.unit.indicators_api.conftest import client_of, column
from tests.world import World

ES = Symbol("CME_MINI", "ES1!")
KEY = SeriesKey(ES, Interval.M15, "tradingview")
NEW_YORK = ZoneInfo("America/New_York")


def session_bars() -> tuple[list[OHLCVBar], list[date]]:
    """15m bars of two trading days, each from 18:00 New York the evening before to 17:00 (zoneinfo), and the
    trading day of each bar."""
    rng = np.random.default_rng(3)
    bars, days, price = [], [], 5_000.0
    for day in (date(2025, 3, 6), date(2025, 3, 7)):
        t = datetime.combine(day - timedelta(days=1), datetime.min.time().replace(hour=18), NEW_YORK)
        close_at = datetime.combine(day, datetime.min.time().replace(hour=17), NEW_YORK)
        while t < close_at:
            close = price * (1 + rng.normal(0, 0.001))
            bars.append(OHLCVBar(Interval.M15, int(t.timestamp()), price, max(price, close) + 0.25,
                                 min(price, close) - 0.25, close, float(rng.uniform(10, 100))))
            days.append(day)
            price, t = close, t + timedelta(minutes=15)
    return bars, days


async def test_vwap_restarts_at_each_session_open_of_the_symbols_calendar():
    world = World(rate_limit_enabled=False)
    world.provider.infos[ES] = SymbolInfo(ES, "E-mini S&P 500", "futures", "USD", "America/New_York", "1800-1700")
    bars, days = session_bars()
    await world.bars.upsert(KEY, bars)
    async with client_of(world) as api:
        assert (await api.get("/api/v1/market-data/symbols/CME_MINI/ES1!/sessions")).status_code == 200
        body = (await api.get("/api/v1/indicators/CME_MINI/ES1!", params={"interval": "15m", "indicators": "vwap",
                                                                        "limit": len(bars)})).json()
    frame = pd.DataFrame({"high": [b.high for b in bars], "low": [b.low for b in bars],
                          "close": [b.close for b in bars], "volume": [b.volume for b in bars]})
    frame["traded"] = (frame.high + frame.low + frame.close) / 3 * frame.volume
    cumulative = frame.groupby(days)[["traded", "volume"]].cumsum()
    want = (cumulative.traded / cumulative.volume).to_numpy()
    utc_days = pd.to_datetime([b.time for b in bars], unit="s", utc=True).date
    assert len(set(utc_days)) > len(set(days))  # the sessions do cross UTC midnight
    np.testing.assert_allclose(column(body["rows"], "vwap"), want, rtol=1e-12)
