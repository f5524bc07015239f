"""Live bars built from the TradingView simulator's ticks, checked as they close and reconciled with the
simulator's history, which deliberately disagrees with the ticks on one bar (its close, its high)."""

import asyncio

import pytest

from src.domain.market_data import Interval, SeriesKey
from src.features.quality.messages import GetSeriesQualityQuery, ReconcileLiveBarsCommand
from tests.integration.quotes.conftest import BTC, T0, until

pytestmark = pytest.mark.integration

M1 = Interval.M1
KEY = SeriesKey(BTC.symbol, M1, BTC.source)
TICKS = [(0, 100.0, 1_010.0), (30, 101.0, 1_020.0), (60, 102.0, 1_030.0), (90, 103.0, 1_040.0),
         (120, 104.0, 1_050.0), (150, 105.0, 1_060.0), (180, 106.0, 1_070.0)]


async def test_live_bars_that_disagree_with_the_sources_history_are_reported_field_by_field(live):
    market = live.sim.market
    ticker = BTC.symbol.ticker
    market.history(ticker, M1)  # the history the ticks extend, as the source's own record of them
    await live.service.subscribe([BTC])
    await live.push(-30, 99.0, 1_000.0)
    for offset, price, total in TICKS:
        live.clock.advance(T0 + offset - live.clock.now())  # the service's clock follows the trades
        await live.push(offset, price, total)
    await until(lambda: all(T0 + k * 60 in live.stored(BTC, M1) for k in range(3)))  # closed by later trades
    quality = live.root.core.quality
    async with asyncio.timeout(3):
        while (record := await quality.get(KEY)) is None:  # noqa: ASYNC110 - polling the store another task writes
            await asyncio.sleep(0.01)
    assert record.live_since <= T0  # checked as they closed (the bar forming at subscription first): owed

    rows = market.history(ticker, M1)
    row = next(r for r in rows if r[0] == T0 + 60)
    row[4] = row[4] * 1.01  # the source's close of the second bar differs from what its ticks built
    row[2] = max(row[2], row[4])
    live.clock.advance(60)
    page = await live.mediator.send(ReconcileLiveBarsCommand(KEY))
    reconciled = page.quality.reconciliation
    # Besides that bar: the source's bars of the day between the bar forming at subscription and the pushed
    # trades, which the live series lacks (written now, by the keep_live policy, as the series' history).
    assert reconciled.compared_bars >= 3 and reconciled.differing_bars > 1
    by_field = {f.field: f for f in reconciled.fields}
    assert by_field["close"].differing_bars == by_field["high"].differing_bars == 1
    assert by_field["close"].max_relative_error == pytest.approx(0.01 / 1.01)
    assert by_field["open"].differing_bars == 0 and by_field["volume"].differing_bars == 0
    assert [f.anomaly.bar_time for f in page.flags] == [T0 + 60]
    assert live.stored(BTC, M1)[T0 + 60].close == 103.0  # keep_live: the live bar stays
    assert len(live.stored(BTC, M1)) == reconciled.compared_bars + reconciled.differing_bars - 1  # gap filled
    shown = await live.mediator.send(GetSeriesQualityQuery(KEY))
    assert "live_vs_source" in shown.quality.failed and shown.quality.score < 100
