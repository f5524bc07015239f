"""An alert across a feed outage, over real sockets (the TradingView simulator upstream): a crossing that
happened while the connection was down is found on the bars the quote service backfills when it comes back,
and fires once, marked late; the next crossing, live, fires once more, not late."""

import pytest

from src.domain.alerts import AlertTriggeredEvent
from src.domain.identity import OPEN_OWNER
from src.features.alerts import messages as m
from src.features.alerts.evaluator import AlertEvaluator
from tests.integration.quotes.conftest import BTC, T0, until

pytestmark = pytest.mark.integration


async def test_a_crossing_during_an_outage_fires_once_late_from_the_backfilled_bars(live):
    evaluator: AlertEvaluator = live.root.slices["alerts"].exposed["evaluator"]
    fired: list[AlertTriggeredEvent] = []
    live.root.event_bus.subscribe(AlertTriggeredEvent, fired.append)
    actor = m.AlertActor(OPEN_OWNER, sees_all=True)
    live.clock.value = T0 - 60  # the rule is created before the ticks
    created = await live.mediator.send(m.CreateAlertCommand(actor, m.AlertSettings(
        "tradingview", BTC.symbol, {"kind": "price_crosses", "level": 110.0, "direction": "up"})))
    await live.service.subscribe([BTC])
    await evaluator.refresh()
    await live.push(-30, 99.0, 1_000.0)  # below the level
    await until(lambda: (rule := evaluator.book.get(created.rule.id)) is not None and rule.memory.side == "below")

    before = live.client.reconnect_count
    live.sim.faults.reject_upgrade = 503  # the outage
    await live.sim.drop_all_connections()
    await until(lambda: not live.client.connected)
    for offset, price, total in ((30, 120.0, 1_035.0), (75, 90.0, 1_050.0), (130, 95.0, 1_060.0)):
        await live.sim.push_tick(BTC.symbol.ticker, price, total, when=T0 + offset)  # traded while away
    live.clock.value = T0 + 140  # time went on meanwhile
    live.sim.faults.reject_upgrade = None
    await until(lambda: live.client.reconnect_count > before and live.client.connected, within=5.0)
    await until(lambda: len(fired) >= 1, within=5.0)
    await evaluator.write_pending()
    [late] = fired
    assert late.late and late.bar_time == T0 and late.values == {"price": 120.0, "level": 110.0}

    await live.push(150, 96.0, 1_062.0)
    await live.push(160, 112.0, 1_070.0)  # crosses again, live
    await until(lambda: len(fired) == 2)
    assert not fired[1].late and fired[1].triggered_at == T0 + 160
    history = await live.mediator.send(m.ListAlertTriggersQuery(actor, created.rule.id))
    assert [(t.trigger_count, t.late) for t in history] == [(2, False), (1, True)]
