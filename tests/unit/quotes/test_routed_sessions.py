"""Where a quotes request goes (`RoutedQuoteSessions`): the local service while no remote collector is
attached, or while this process is the collector; the remote one otherwise. Once a remote is attached,
WebSocket holders carry this process's name (the collector tells the connections of every worker apart),
and the REST API stays one holder for the whole deployment."""

from src.domain.market_data import Interval
from src.domain.realtime.references import API_HOLDER
from src.features.quotes.messages import GetQuoteStatusQuery, SetBarIntervalsCommand, SubscribeQuotesCommand
from tests.unit.quotes.conftest import BTC, ETH


class RecordingRemote:
    """A remote collector's sessions that record what reached them."""

    def __init__(self, status) -> None:
        self.calls: list[tuple] = []
        self._status = status

    async def subscribe(self, instruments, intervals=(), holder=API_HOLDER):
        self.calls.append(("subscribe", tuple(instruments), holder))
        return list(instruments)

    async def change_intervals(self, intervals):
        self.calls.append(("intervals", tuple(intervals)))
        return tuple(intervals)

    def status(self):
        return self._status


async def test_without_a_remote_everything_is_local_and_holders_keep_their_names(world):
    await world.mediator.send(SubscribeQuotesCommand((BTC,), holder="ws:1"))
    assert world.service.holdings() == {"ws:1": [BTC]}


async def test_while_this_process_is_the_collector_requests_stay_local_with_holders_named_for_it(world):
    sessions = world.exposed("quotes", "sessions")
    remote = RecordingRemote(status=None)
    sessions.attach_remote(remote, is_local=lambda: True, process="host:1:ab")
    await world.mediator.send(SubscribeQuotesCommand((BTC,), holder="ws:1"))
    await world.mediator.send(SubscribeQuotesCommand((ETH,)))
    assert world.service.holdings() == {"host:1:ab/ws:1": [BTC], API_HOLDER: [ETH]}
    assert remote.calls == []


async def test_elsewhere_requests_reach_the_remote_collector_and_reads_come_from_it(world):
    sessions = world.exposed("quotes", "sessions")
    remote = RecordingRemote(status="the collector's status")
    sessions.attach_remote(remote, is_local=lambda: False, process="host:2:cd")
    await world.mediator.send(SubscribeQuotesCommand((BTC,), holder="ws:7"))
    await world.mediator.send(SetBarIntervalsCommand((Interval.M1,)))
    assert remote.calls == [("subscribe", (BTC,), "host:2:cd/ws:7"), ("intervals", (Interval.M1,))]
    assert world.service.holdings() == {}
    assert await world.mediator.send(GetQuoteStatusQuery()) == "the collector's status"
