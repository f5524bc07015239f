"""A world whose source has a 1m series of BTCUSDT (from `quality_series`), checked through the Mediator."""

from typing import Any

import pytest

from src.domain.market_data import Interval, OHLCVBar, SeriesKey, Symbol
from src.domain.quality import DataQualityIssueEvent
from src.domain.quality.model import SeriesColumns
from src.domain.quality.series import SeriesQuality
from src.features.market_data.messages import SyncSymbolCommand
from tests.fakes import FakeClock
from tests.unit.domain.quality_series import MINUTE, T0, bars_of, columns_from_closes, smooth_closes, with_values
from tests.world import SOURCE, World

BTC = Symbol("BINANCE", "BTCUSDT")
M1 = Interval.M1
KEY = SeriesKey(BTC, M1, SOURCE)
BARS = 200
NOW = T0 + BARS * MINUTE  # the last bar (T0 + 199 min) has just closed
BAD_TICK = 100  # position of the bar whose close jumps 10% and comes straight back


def clean() -> SeriesColumns:
    return columns_from_closes(smooth_closes(BARS))


def with_bad_tick(columns: SeriesColumns, at: int = BAD_TICK) -> SeriesColumns:
    close = float(columns.close[at]) * 1.1
    return with_values(columns, at, close=close, high=close * 1.001)


class QualityWorld(World):
    def __init__(self, now: float = NOW, **settings: Any) -> None:
        super().__init__(clock=FakeClock(now), **settings)
        self.issues: list[DataQualityIssueEvent] = []
        self.event_bus.subscribe(DataQualityIssueEvent, self.issues.append)

    def source(self, columns: SeriesColumns) -> list[OHLCVBar]:
        bars = bars_of(columns)
        self.provider.bars[(BTC, M1)] = bars
        return bars

    async def sync(self, n_bars: int = BARS, *, refresh: bool = False, key: SeriesKey = KEY) -> SeriesQuality:
        await self.mediator.send(SyncSymbolCommand(key, n_bars, refresh=refresh))
        await self.exposed("quality", "after_sync").drain()
        return self.quality.records[key]


@pytest.fixture
def world() -> QualityWorld:
    return QualityWorld()
