import pytest

from src.domain.market_data import Interval, SeriesKey, Symbol
from tests.world import SOURCE, World

BTC = Symbol("BINANCE", "BTCUSDT")
KEY = SeriesKey(BTC, Interval.M1, SOURCE)


@pytest.fixture
def world() -> World:
    return World()
