"""An API worker's mirror of the collector's live stream: what the collector's `LivePublisher` appends is
what the mirror serves (latest quote, forming bar, the bar just closed, status) and hands to its listeners
(the worker's hub) for the symbols they want; entries of its own process are skipped; without a recent
status it reports nothing running."""

from src.app.scale_out.codec import message_codec
from src.app.scale_out.live import LiveMirror, LivePublisher
from src.domain.market_data import Interval, OHLCVBar, QuoteTick
from src.domain.realtime.aggregator import BarUpdate
from src.features.quotes.service import QuoteStatus, SymbolQuoteStatus
from tests.unit.quotes.conftest import BTC, ETH, T0


class CapturingWriter:
    def __init__(self) -> None:
        self.entries: list[dict] = []

    def put(self, stream, fields) -> None:
        self.entries.append({key.encode(): value if isinstance(value, bytes) else value.encode()
                             for key, value in fields.items()})


class RecordingListener:
    def __init__(self, *wanted) -> None:
        self.wanted = set(wanted)
        self.quotes: list = []
        self.closed: list = []

    def wants(self, instrument) -> bool:
        return instrument in self.wanted

    def on_quote(self, instrument, tick, forming) -> None:
        self.quotes.append((instrument, tick, tuple(forming)))

    def on_bar_closed(self, update) -> None:
        self.closed.append(update)


def status(*instruments, running=True) -> QuoteStatus:
    return QuoteStatus(running=running, connected=True, reconnect_count=0, intervals=(Interval.M1,),
                       symbols=tuple(SymbolQuoteStatus(i, T0, T0, 1, 0) for i in instruments), ticks_received=1,
                       stale_ticks_total=0, bars_written=0, bars_skipped=0, bars_dropped=0, bars_pending=0,
                       cache_writes=0)


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


def bar(time: int, close: float) -> OHLCVBar:
    return OHLCVBar(Interval.M1, time, 1.0, max(2.0, close), 0.5, close, 3.0)


async def mirrored(writer: CapturingWriter, mirror: LiveMirror) -> None:
    for fields in writer.entries:
        await mirror.deliver(fields)
    writer.entries.clear()


async def test_a_worker_serves_what_the_collector_published_and_hands_wanted_symbols_to_its_hub():
    writer, clock = CapturingWriter(), Clock()
    publisher = LivePublisher(writer, message_codec(), stream="live", process="collector", publishing=lambda: True)
    mirror = LiveMirror(message_codec(), process="worker", stale_after_s=3.0, idle=status(running=False),
                        monotonic=clock)
    hub = RecordingListener(BTC)
    mirror.add_listener(hub)
    forming = BarUpdate(BTC, bar(T0, 1.5), closed=False)
    publisher.on_quote(BTC, QuoteTick(BTC.symbol, T0 + 1, 1.5, 10.0), [forming])
    publisher.on_quote(ETH, QuoteTick(ETH.symbol, T0 + 1, 7.0), [BarUpdate(ETH, bar(T0, 7.0), closed=False)])
    publisher.on_status(status(BTC, ETH))
    await mirrored(writer, mirror)
    assert hub.quotes == [(BTC, QuoteTick(BTC.symbol, T0 + 1, 1.5, 10.0), (forming,))]  # ETH: nobody wants it
    assert mirror.latest_quote(ETH) == QuoteTick(ETH.symbol, T0 + 1, 7.0)  # decoded when read
    assert {i for i, _ in mirror.latest_quotes()} == {BTC, ETH}
    assert mirror.current_bar(BTC, Interval.M1).bar == bar(T0, 1.5)
    closed = BarUpdate(BTC, bar(T0, 1.6), closed=True)
    publisher.on_bar_closed(closed)
    await mirrored(writer, mirror)
    assert hub.closed == [closed]
    current = mirror.current_bar(BTC, Interval.M1)
    assert (current.bar, current.closed) == (bar(T0, 1.6), True)
    assert mirror.status() == status(BTC, ETH)


async def test_a_symbol_gone_from_the_collectors_status_is_gone_from_the_worker():
    writer = CapturingWriter()
    publisher = LivePublisher(writer, message_codec(), stream="live", process="collector", publishing=lambda: True)
    mirror = LiveMirror(message_codec(), process="worker", stale_after_s=3.0, idle=status(running=False))
    publisher.on_quote(ETH, QuoteTick(ETH.symbol, T0 + 1, 7.0), [])
    publisher.on_status(status(BTC))
    await mirrored(writer, mirror)
    assert mirror.latest_quote(ETH) is None and mirror.latest_quotes() == []


async def test_entries_of_its_own_process_are_skipped_and_a_silent_collector_reads_as_not_running():
    writer, clock = CapturingWriter(), Clock()
    own = LivePublisher(writer, message_codec(), stream="live", process="both", publishing=lambda: True)
    mirror = LiveMirror(message_codec(), process="both", stale_after_s=3.0, idle=status(running=False),
                        monotonic=clock)
    own.on_quote(BTC, QuoteTick(BTC.symbol, T0 + 1, 1.5), [])
    own.on_status(status(BTC))
    await mirrored(writer, mirror)
    assert mirror.latest_quote(BTC) is None and mirror.entries == 0
    other = LivePublisher(writer, message_codec(), stream="live", process="collector", publishing=lambda: True)
    other.on_status(status(BTC))
    await mirrored(writer, mirror)
    clock.now += 3.5
    assert not mirror.status().running
