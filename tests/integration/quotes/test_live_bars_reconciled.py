"""Live bars built from the TradingView simulator's ticks, checked as they close and reconciled with the
simulator's history, which deliberately disagrees with its ticks (`Faults.history_drift`: the history
records every trade 1% higher)."""

import asyncio

import pytest

from src.domain.market_data import Interval, SeriesKey
from src.features.quality.messages import GetSeriesQualityQuery, ReconcileLiveBarsCommand
from tests.integration.quotes.conftest import BTC, T0, until

pytestmark = pytest.mark.integration

M1 = Interval.M1
KEY = SeriesKey(BTC.symbol, M1, BTC.source)
DRIFT = 0.01
TICKS = [(0, 100.0, 1_010.0), (30, 101.0, 1_020.0), (60, 102.0, 1_030.0), (90, 103.0, 1_040.0),
         (120, 104.0, 1_050.0), (150, 105.0, 1_060.0), (180, 106.0, 1_070.0)]
LIVE_BARS = [T0, T0 + 60, T0 + 120]  # closed by the later trades; T0 + 180 is forming


async def test_live_bars_that_disagree_with_the_sources_history_are_reported_field_by_field(live):
    live.sim.faults.history_drift = DRIFT
    live.sim.market.history(BTC.symbol.ticker, M1)  # the history the trades extend: the source's record of them
    await live.service.subscribe([BTC])
    await live.push(-30, 99.0, 1_000.0)
    for offset, price, total in TICKS:
        live.clock.advance(T0 + offset - live.clock.now())  # the service's clock follows the trades
        await live.push(offset, price, total)
    await until(lambda: all(t in live.stored(BTC, M1) for t in LIVE_BARS))
    quality = live.root.core.quality
    async with asyncio.timeout(3):
        while (record := await quality.get(KEY)) is None:  # noqa: ASYNC110 - polling the store another task writes
            await asyncio.sleep(0.01)
    assert record.live_since <= T0  # checked as they closed (the bar forming at subscription first): owed

    live.clock.advance(60)
    page = await live.mediator.send(ReconcileLiveBarsCommand(KEY))
    reconciled = page.quality.reconciliation
    by_field = {f.field: f for f in reconciled.fields}
    for name in ("open", "high", "low", "close"):  # every trade-built price is 1% off in the source's history
        assert by_field[name].max_relative_error == pytest.approx(DRIFT / (1 + DRIFT))
        assert by_field[name].differing_bars >= len(LIVE_BARS)
    assert by_field["volume"].differing_bars == 0
    assert set(LIVE_BARS) <= {f.anomaly.bar_time for f in page.flags}
    assert all(f.anomaly.check == "live_vs_source" for f in page.flags)
    assert [live.stored(BTC, M1)[t].close for t in LIVE_BARS] == [101.0, 103.0, 105.0]  # keep_live: kept
    assert reconciled.policy == "keep_live" and reconciled.bars_replaced == 0
    shown = await live.mediator.send(GetSeriesQualityQuery(KEY))
    assert "live_vs_source" in shown.quality.failed and shown.quality.score < 100
