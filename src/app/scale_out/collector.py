"""The collector role in a deployment: one process at a time owns the live quote sessions.

Every process with the `collector` role contends for the collector lease (`LeaseKeeper`). While it holds
it, its `QuoteService` owns the sessions of every source: it publishes the live data (`LivePublisher`),
serves the control commands API workers append to the commands stream, reports its status every
`status_every_s` and records its subscriptions (who holds what, the intervals, running or stopped). When
it loses the lease it stops its sessions (forming bars flushed as partial, like any stop) and waits as a
standby.

Taking over: the new holder reads the record its predecessor left and subscribes every holder's symbols
again (the catch-up backfills the bars missed meanwhile from the source's history), except the holders of
WebSocket connections of processes that are gone (`Presence`): a killed collector's own, a killed api
worker's. While it leads, it releases such holders at each report too. Commands appended while no collector
led are not served: their requesters' waits end with 503 after `command_timeout_s`.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import structlog
from redis.exceptions import RedisError

from src.app.scale_out.presence import Presence
from src.common.errors import ApplicationError
from src.domain.errors import DomainError
from src.domain.market_data import Instrument, Interval
from src.features.quotes.messages import (
    ReleaseQuotesCommand,
    SetBarIntervalsCommand,
    StartQuotesCommand,
    StopQuotesCommand,
    SubscribeQuotesCommand,
    UnsubscribeQuotesCommand,
)
from src.features.quotes.service import QuoteService
from src.infrastructure.coordination.lease import LeaseKeeper, RedisLease
from src.infrastructure.streams.codec import DataclassCodec
from src.infrastructure.streams.redis_streams import Fields, RedisStreams, StreamFollower, StreamWriter

log = structlog.get_logger("collector")

ORIGIN, REQUEST, COMMAND = "o", "r", "c"  # a command entry
VALUE, ERROR, DETAIL, FIELD, STATUS = "v", "err", "detail", "field", "s"  # a reply entry


@dataclass(frozen=True, slots=True)
class ClusterKeys:
    """The Redis keys and streams of one deployment, under its prefix."""

    prefix: str

    @property
    def events(self) -> str:
        return f"{self.prefix}events"

    @property
    def live(self) -> str:
        return f"{self.prefix}live"

    @property
    def commands(self) -> str:
        return f"{self.prefix}collector:commands"

    @property
    def lease(self) -> str:
        return f"{self.prefix}collector:lease"

    @property
    def record(self) -> str:
        return f"{self.prefix}collector:subscriptions"

    def replies(self, process: str) -> str:
        return f"{self.prefix}replies:{process}"


@dataclass(frozen=True, slots=True)
class SubscriptionRecord:
    """What the leading collector was doing, for the one that takes over from it."""

    leader: str
    running: bool
    intervals: tuple[Interval, ...]
    holdings: dict[str, tuple[Instrument, ...]]


class Collector:
    def __init__(self, service: QuoteService, lease: RedisLease, streams: RedisStreams, writer: StreamWriter,
                 follower: StreamFollower, codec: DataclassCodec, presence: Presence, *, keys: ClusterKeys,
                 process: str, status_every_s: float, report_status: Callable[[], None]) -> None:
        self._service = service
        self._streams = streams
        self._writer = writer
        self._follower = follower
        self._codec = codec
        self._presence = presence
        self._keys = keys
        self._process = process
        self._status_every_s = status_every_s
        self._report_status = report_status  # the status entry on the live stream
        self._keeper = LeaseKeeper(lease, on_acquired=self._lead, on_lost=self._step_down)
        self._reporter: asyncio.Task[None] | None = None
        self._commands: set[asyncio.Task[None]] = set()
        self.commands_served = 0

    @property
    def leading(self) -> bool:
        return self._keeper.held

    @property
    def acquisitions(self) -> int:
        return self._keeper.acquisitions

    async def start(self) -> None:
        await self._keeper.start()

    async def stop(self) -> None:
        await self._keeper.stop()

    # --- leading and standing by -----------------------------------------------------------------

    async def _lead(self) -> None:
        record = await self._read_record()
        self._follower.follow(self._keys.commands, self._on_command)
        self._reporter = asyncio.create_task(self._report_loop(), name="collector-report")
        if record is not None:  # in the background: the keeper renews the lease meanwhile
            self._track(asyncio.create_task(self._take_over(record), name="collector-take-over"))
        await self._report()

    async def _step_down(self) -> None:
        self._follower.unfollow(self._keys.commands)
        for task in [t for t in (self._reporter, *self._commands) if t is not None]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._reporter = None
        await self._service.stop()  # its forming bars are flushed; the next leader catches up from history
        await self._service.start()  # ready, without sessions, should the lease come back

    async def _read_record(self) -> SubscriptionRecord | None:
        try:
            data = await self._streams.get(self._keys.record)
        except (RedisError, OSError, TimeoutError) as error:
            log.warning("collector_record_unreadable", error=f"{type(error).__name__}: {error}")
            return None
        return None if data is None else self._codec.decode(data)

    async def _take_over(self, record: SubscriptionRecord) -> None:
        service = self._service
        if record.intervals:
            service.set_intervals(record.intervals)
        if not record.running:
            await service.stop()
            return
        await service.start()
        gone = await self._gone(record.holdings)
        holdings = {holder: held for holder, held in record.holdings.items() if holder not in gone}
        results = await asyncio.gather(*(service.subscribe(held, (), holder) for holder, held in holdings.items()),
                                       return_exceptions=True)
        failed = [f"{holder}: {result}" for holder, result in zip(holdings, results, strict=True)
                  if isinstance(result, BaseException)]
        log.info("collector_took_over", previous=record.leader, holders=len(holdings),
                 symbols=len(service.instruments), failed=failed)

    async def _report_loop(self) -> None:
        while True:
            await asyncio.sleep(self._status_every_s)
            await self._report()

    async def _gone(self, holders: Iterable[str]) -> set[str]:
        """The holders of processes that are gone (when Redis cannot tell: none)."""
        by_process = {holder: holder.partition("/")[0] for holder in holders if "/" in holder}
        try:
            gone = await self._presence.gone(by_process.values())
        except (RedisError, OSError, TimeoutError):
            return set()
        return {holder for holder, process in by_process.items() if process in gone}

    async def _report(self) -> None:
        """The status to the API workers, and the record to a successor; holders of processes gone released."""
        service = self._service
        for holder in await self._gone(service.holdings()):
            log.info("collector_released_holder_of_gone_process", holder=holder)
            await service.release(holder)
        self._report_status()
        record = SubscriptionRecord(self._process, service.running, service.intervals,
                                    {holder: tuple(held) for holder, held in service.holdings().items()})
        try:
            await self._streams.put(self._keys.record, self._codec.encode(record))
        except (RedisError, OSError, TimeoutError) as error:
            log.warning("collector_record_not_written", error=f"{type(error).__name__}: {error}")

    # --- commands ----------------------------------------------------------------------------------

    async def _on_command(self, fields: Fields) -> None:
        requester, request = fields[ORIGIN.encode()].decode(), fields[REQUEST.encode()]
        command = self._codec.decode(fields[COMMAND.encode()])
        # Served concurrently: a subscribe waiting for its seeds holds nobody else up.
        self._track(asyncio.create_task(self._serve(requester, request, command), name="collector-command"))

    def _track(self, task: "asyncio.Task[None]") -> None:
        self._commands.add(task)
        task.add_done_callback(self._commands.discard)

    async def _serve(self, requester: str, request: bytes, command: Any) -> None:
        reply: dict[str, bytes | str] = {REQUEST: request}
        try:
            reply[VALUE] = self._codec.encode(await self._run(command))
        except (ApplicationError, DomainError) as error:
            reply.update({ERROR: type(error).__name__, DETAIL: str(error), FIELD: error.field or ""})
        except Exception as error:
            log.exception("collector_command_failed", command=type(command).__name__)
            reply.update({ERROR: "UpstreamUnavailable", DETAIL: f"the collector failed: {type(error).__name__}"})
        self.commands_served += 1
        reply[STATUS] = self._codec.encode(self._service.status())
        self._writer.put(self._keys.replies(requester), reply)
        await self._report()

    def _run(self, command: Any) -> Awaitable[Any]:
        service = self._service
        match command:
            case StartQuotesCommand(instruments=instruments):
                return _start(service, instruments)
            case StopQuotesCommand():
                return service.stop()
            case SubscribeQuotesCommand(instruments=instruments, intervals=intervals, holder=holder):
                return service.subscribe(instruments, intervals, holder)
            case UnsubscribeQuotesCommand(instruments=instruments, holder=holder):
                return service.unsubscribe(instruments, holder)
            case ReleaseQuotesCommand(holder=holder):
                return service.release(holder)
            case SetBarIntervalsCommand(intervals=intervals):
                return service.change_intervals(intervals)
        raise ValueError(f"not a collector command: {type(command).__name__}")


async def _start(service: QuoteService, instruments: tuple[Instrument, ...]) -> None:
    await service.start()
    if instruments:
        await service.subscribe(instruments)
