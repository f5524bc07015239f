"""Where the live quote sessions of a request are: this process's `QuoteService`, or the collector's.

`QuoteSessions` is what the handlers and the hub use of the live sessions. In one process (no Redis, or
this process holds the collector lease) it is the local `QuoteService`; in a deployment of several
processes, an API worker that is not the collector reaches the collector's sessions through a remote
implementation the root attaches (`src.app.scale_out`): control operations go to the collector, reads
come from the live data it publishes.

`RoutedQuoteSessions` decides per call. Holders are made unique across processes (`<process>/ws:3`) once
a remote is attached, so the collector's reference counts tell the WebSocket connections of every
worker apart; the REST API (`API_HOLDER`) is one holder for the whole deployment.
"""

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Protocol

from src.domain.market_data import Instrument, Interval, QuoteTick
from src.domain.realtime.aggregator import BarUpdate
from src.domain.realtime.references import API_HOLDER
from src.features.quotes.service import CurrentBar, QuoteService, QuoteStatus


class QuoteSessions(Protocol):
    def start(self) -> Awaitable[None]: ...
    def stop(self) -> Awaitable[None]: ...
    def subscribe(self, instruments: Sequence[Instrument], intervals: Iterable[Interval] = (),
                  holder: str = API_HOLDER) -> Awaitable[list[Instrument]]: ...
    def unsubscribe(self, instruments: Sequence[Instrument],
                    holder: str = API_HOLDER) -> Awaitable[list[Instrument]]: ...
    def release(self, holder: str) -> Awaitable[None]: ...
    def change_intervals(self, intervals: Iterable[Interval]) -> Awaitable[tuple[Interval, ...]]: ...
    def status(self) -> QuoteStatus: ...
    def latest_quote(self, instrument: Instrument) -> QuoteTick | None: ...
    def latest_quotes(self) -> list[tuple[Instrument, QuoteTick]]: ...
    def current_bar(self, instrument: Instrument, interval: Interval) -> CurrentBar | None: ...
    def snapshot(self, instrument: Instrument) -> tuple[QuoteTick | None, list[BarUpdate]]: ...


class RoutedQuoteSessions:
    """The local sessions until a remote is attached; then the local ones while `is_local()` (this process
    is the collector), the remote ones otherwise."""

    def __init__(self, local: QuoteService) -> None:
        self.local = local
        self._remote: QuoteSessions | None = None
        self._is_local: Callable[[], bool] = lambda: True
        self._process = ""

    def attach_remote(self, remote: QuoteSessions, *, is_local: Callable[[], bool], process: str) -> None:
        self._remote, self._is_local, self._process = remote, is_local, process

    @property
    def _target(self) -> "QuoteSessions":
        return self.local if self._remote is None or self._is_local() else self._remote

    def holder(self, holder: str) -> str:
        """`holder` as the collector knows it."""
        return holder if self._remote is None or holder == API_HOLDER else f"{self._process}/{holder}"

    def start(self) -> Awaitable[None]:
        return self._target.start()

    def stop(self) -> Awaitable[None]:
        return self._target.stop()

    def subscribe(self, instruments: Sequence[Instrument], intervals: Iterable[Interval] = (),
                  holder: str = API_HOLDER) -> Awaitable[list[Instrument]]:
        return self._target.subscribe(instruments, intervals, self.holder(holder))

    def unsubscribe(self, instruments: Sequence[Instrument], holder: str = API_HOLDER) -> Awaitable[list[Instrument]]:
        return self._target.unsubscribe(instruments, self.holder(holder))

    def release(self, holder: str) -> Awaitable[None]:
        return self._target.release(self.holder(holder))

    def change_intervals(self, intervals: Iterable[Interval]) -> Awaitable[tuple[Interval, ...]]:
        return self._target.change_intervals(intervals)

    def status(self) -> QuoteStatus:
        return self._target.status()

    def latest_quote(self, instrument: Instrument) -> QuoteTick | None:
        return self._target.latest_quote(instrument)

    def latest_quotes(self) -> list[tuple[Instrument, QuoteTick]]:
        return self._target.latest_quotes()

    def current_bar(self, instrument: Instrument, interval: Interval) -> CurrentBar | None:
        return self._target.current_bar(instrument, interval)

    def snapshot(self, instrument: Instrument) -> tuple[QuoteTick | None, list[BarUpdate]]:
        return self._target.snapshot(instrument)
