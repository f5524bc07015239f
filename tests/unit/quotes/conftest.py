from collections.abc import AsyncIterator

import pytest

from src.domain.market_data import Instrument, QuoteTick, Symbol
from tests.fakes import FakeCache
from tests.world import SOURCE, World

BTC = Instrument(SOURCE, Symbol("BINANCE", "BTCUSDT"))
ETH = Instrument(SOURCE, Symbol("BINANCE", "ETHUSDT"))
BAD = Instrument(SOURCE, Symbol("BINANCE", "NOPE"))
T0 = 1_700_006_400  # 00:00 UTC: aligned for every interval up to 1d


def tick(time: float, price: float, volume: float | None = None, symbol: Instrument = BTC) -> QuoteTick:
    return QuoteTick(symbol.symbol, time, price, volume)


class RecordingCache(FakeCache):
    def __init__(self) -> None:
        super().__init__()
        self.sets: list[str] = []

    async def set(self, key, value, ttl_seconds):
        self.sets.append(key)
        await super().set(key, value, ttl_seconds)


class QuotesWorld(World):
    """The root built with fakes, live bars at 1m and 5m, and a timer that never fires by itself (tests
    call `service.close_due()` at the fake clock's times)."""

    def __init__(self, **settings) -> None:
        from tests.fakes import FakeClock

        values = {"live_bar_intervals": ["1m", "5m"], "live_close_every_s": 3600, "live_close_grace_s": 2.0,
                  **settings}
        super().__init__(clock=FakeClock(T0), cache=RecordingCache(), unknown={BAD.symbol}, **values)
        self.service = self.exposed("quotes", "service")
        self.hub = self.exposed("quotes", "hub")

    def stored(self, symbol, interval, source=SOURCE) -> dict:
        return super().stored(getattr(symbol, "symbol", symbol), interval, source)


@pytest.fixture
async def world() -> AsyncIterator[QuotesWorld]:
    w = QuotesWorld()
    await w.service.start()
    try:
        yield w
    finally:
        await w.service.stop()
