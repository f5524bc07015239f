"""An API worker's view of the collector's quote sessions (`QuoteSessions`): control operations are appended
to the collector's commands stream and their replies awaited on this process's replies stream (at most
`timeout_s`, then 503); reads come from the `LiveMirror`. A reply carries the collector's status after the
command, so a status read right after a control operation already reflects it."""

import asyncio
import itertools
from collections.abc import Iterable, Sequence
from typing import Any

from src.app.scale_out.collector import COMMAND, DETAIL, ERROR, FIELD, ORIGIN, REQUEST, STATUS, VALUE, ClusterKeys
from src.app.scale_out.live import LiveMirror
from src.common import errors as application_errors
from src.common.errors import ApplicationError, UpstreamUnavailable
from src.domain import errors as domain_errors
from src.domain.errors import DomainError
from src.domain.market_data import Instrument, Interval, QuoteTick
from src.domain.realtime.aggregator import BarUpdate
from src.domain.realtime.references import API_HOLDER
from src.features.quotes.messages import (
    ReleaseQuotesCommand,
    SetBarIntervalsCommand,
    StartQuotesCommand,
    StopQuotesCommand,
    SubscribeQuotesCommand,
    UnsubscribeQuotesCommand,
)
from src.features.quotes.service import CurrentBar, QuoteStatus
from src.infrastructure.streams.codec import DataclassCodec
from src.infrastructure.streams.redis_streams import Fields, StreamFollower, StreamWriter


class RemoteQuoteSessions:
    def __init__(self, writer: StreamWriter, follower: StreamFollower, codec: DataclassCodec, mirror: LiveMirror, *,
                 keys: ClusterKeys, process: str, timeout_s: float) -> None:
        self._writer = writer
        self._follower = follower
        self._codec = codec
        self._mirror = mirror
        self._keys = keys
        self._process = process
        self._timeout_s = timeout_s
        self._ids = itertools.count(1)
        self._waiting: dict[bytes, asyncio.Future[Any]] = {}

    def install(self) -> None:
        self._follower.follow(self._keys.replies(self._process), self._on_reply, from_start=True)

    async def _ask(self, command: object) -> Any:
        request = str(next(self._ids)).encode()
        reply = self._waiting[request] = asyncio.get_running_loop().create_future()
        self._writer.put(self._keys.commands, {ORIGIN: self._process, REQUEST: request,
                                               COMMAND: self._codec.encode(command)})
        try:
            async with asyncio.timeout(self._timeout_s):
                return await reply
        except TimeoutError:
            raise UpstreamUnavailable(f"no collector answered within {self._timeout_s:g}s (is a process with the "
                                      "collector role running?)") from None
        finally:
            self._waiting.pop(request, None)

    async def _on_reply(self, fields: Fields) -> None:
        status = fields.get(STATUS.encode())
        if status is not None:
            self._mirror.accept_status(self._codec.decode(status))
        reply = self._waiting.get(fields[REQUEST.encode()])
        if reply is None or reply.done():
            return  # its requester gave up
        error = fields.get(ERROR.encode())
        if error is None:
            reply.set_result(self._codec.decode(fields[VALUE.encode()]))
        else:
            reply.set_exception(_error(error.decode(), fields[DETAIL.encode()].decode(),
                                       fields.get(FIELD.encode(), b"").decode() or None))

    # --- QuoteSessions -------------------------------------------------------------------------------

    async def start(self) -> None:
        await self._ask(StartQuotesCommand())

    async def stop(self) -> None:
        await self._ask(StopQuotesCommand())

    async def subscribe(self, instruments: Sequence[Instrument], intervals: Iterable[Interval] = (),
                        holder: str = API_HOLDER) -> list[Instrument]:
        return list(await self._ask(SubscribeQuotesCommand(tuple(instruments), tuple(intervals), holder)))

    async def unsubscribe(self, instruments: Sequence[Instrument], holder: str = API_HOLDER) -> list[Instrument]:
        return list(await self._ask(UnsubscribeQuotesCommand(tuple(instruments), holder)))

    async def release(self, holder: str) -> None:
        await self._ask(ReleaseQuotesCommand(holder))

    async def change_intervals(self, intervals: Iterable[Interval]) -> tuple[Interval, ...]:
        return tuple(await self._ask(SetBarIntervalsCommand(tuple(intervals))))

    def status(self) -> QuoteStatus:
        return self._mirror.status()

    def latest_quote(self, instrument: Instrument) -> QuoteTick | None:
        return self._mirror.latest_quote(instrument)

    def latest_quotes(self) -> list[tuple[Instrument, QuoteTick]]:
        return self._mirror.latest_quotes()

    def current_bar(self, instrument: Instrument, interval: Interval) -> CurrentBar | None:
        return self._mirror.current_bar(instrument, interval)

    def snapshot(self, instrument: Instrument) -> tuple[QuoteTick | None, list[BarUpdate]]:
        return self._mirror.snapshot(instrument)


def _error(name: str, detail: str, field: str | None) -> Exception:
    """The collector's error as this process raises it (mapped to the same problem+json), else a 503."""
    for module in (application_errors, domain_errors):
        cls = getattr(module, name, None)
        if isinstance(cls, type) and issubclass(cls, ApplicationError | DomainError):
            try:
                return cls(detail, field=field)
            except TypeError:  # an error with other arguments: told as unavailable
                break
    return UpstreamUnavailable(detail, field=field)
