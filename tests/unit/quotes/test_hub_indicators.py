"""QuoteHub's opt-in indicator frames: fed by `IndicatorsUpdatedEvent` through the EventBus, sent to the
clients that asked for those specs on that symbol and interval."""

import asyncio

import pytest

from src.domain.indicators import parse_specs
from src.domain.indicators.events import IndicatorsUpdatedEvent
from src.domain.market_data import Interval, SeriesKey
from src.features.quotes.ws import QuoteHub
from tests.unit.quotes.conftest import BTC, ETH, T0
from tests.unit.quotes.test_hub import FakeSocket, Upstream, until

M1, M5 = Interval.M1, Interval.M5
VALUES = {"rsi_14": 55.5, "macd_12_26_9": 0.5, "macd_signal_12_26_9": None, "macd_hist_12_26_9": None,
          "sma_20": 101.0}


def updated(interval=M1, instrument=BTC, time=T0) -> IndicatorsUpdatedEvent:
    return IndicatorsUpdatedEvent(key=SeriesKey(instrument.symbol, interval, instrument.source), bar_time=time,
                                  specs=("rsi:14", "macd:12:26:9", "sma:20"), values=VALUES, occurred_at=time + 60)


@pytest.fixture
async def connect():
    hub = QuoteHub(Upstream(), live_indicators=parse_specs(["rsi:14", "macd", "sma:20"]))
    tasks = []

    async def connect_(message) -> FakeSocket:
        socket = FakeSocket()
        tasks.append(asyncio.create_task(hub.serve(socket)))
        socket.say(message)
        await until(lambda: socket.of_type("subscribed") or socket.of_type("error"))
        return socket

    yield hub, connect_
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def subscribe(**extra) -> dict:
    return {"action": "subscribe", "symbols": ["BINANCE:BTCUSDT"], "intervals": ["1m"], **extra}


async def test_a_client_that_asked_gets_indicator_frames_of_its_specs_for_its_intervals(connect):
    hub, connect_ = connect
    asked = await connect_(subscribe(indicators=["rsi:14", "macd"]))
    plain = await connect_(subscribe())
    assert asked.of_type("subscribed")[0]["indicators"] == ["rsi:14", "macd:12:26:9"]
    hub.on_indicators_updated(updated(M5))  # an interval the client did not subscribe to
    hub.on_indicators_updated(updated(M1, ETH))  # a symbol it did not subscribe to
    hub.on_indicators_updated(updated(M1))
    await until(lambda: asked.of_type("indicator"))
    await asyncio.sleep(0.01)
    [frame] = asked.of_type("indicator")
    assert frame == {"type": "indicator", "source": "tradingview", "symbol": "BINANCE:BTCUSDT", "interval": "1m",
                     "time": "2023-11-15T00:00:00Z", "timestamp": T0,
                     "values": {"rsi_14": 55.5, "macd_12_26_9": 0.5, "macd_signal_12_26_9": None,
                                "macd_hist_12_26_9": None}}
    assert plain.of_type("indicator") == []


async def test_asking_for_an_indicator_not_computed_live_or_a_bad_spec_is_an_error_frame(connect):
    _, connect_ = connect
    not_live = await connect_(subscribe(indicators=["rsi:7"]))
    assert "not computed live: rsi:7" in not_live.of_type("error")[0]["detail"]
    bad = await connect_(subscribe(indicators=["nope"]))
    assert bad.of_type("error")[0]["error"] == "InvalidIndicator" and "nope" in bad.of_type("error")[0]["detail"]
    wrong = await connect_(subscribe(indicators="rsi"))
    assert "'indicators' must be a list" in wrong.of_type("error")[0]["detail"]


async def test_unsubscribing_the_symbol_stops_its_indicator_frames(connect):
    hub, connect_ = connect
    socket = await connect_(subscribe(indicators=["sma:20"]))
    socket.say({"action": "unsubscribe", "symbols": ["BINANCE:BTCUSDT"]})
    await until(lambda: socket.of_type("unsubscribed"))
    socket.say(subscribe())  # back, without indicators
    await until(lambda: len(socket.of_type("subscribed")) == 2)
    hub.on_indicators_updated(updated())
    await asyncio.sleep(0.02)
    assert socket.of_type("indicator") == []


async def test_the_root_wires_the_hub_to_indicator_updates_through_the_event_bus():
    from tests.world import World

    world = World()
    hub = world.exposed("quotes", "hub")
    assert hub.on_indicators_updated in world.event_bus.subscribers(IndicatorsUpdatedEvent)
