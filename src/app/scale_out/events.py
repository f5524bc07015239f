"""The EventBus of every process of a deployment, bridged through one Redis stream.

Each process appends the bridged events it raised itself (`BRIDGED_EVENTS`: what other processes act on)
to the events stream, tagged with its id, and publishes every other process's entries on its own bus as
remote events. The exporter is a `local_only` subscriber, so a remote event never goes back out (no echo),
and an entry tagged with this process's id is skipped (its subscribers had it locally already).

Derived events are derived where they are consumed: `IndicatorsUpdatedEvent` is not bridged, each process
computes it from the `BarCompletedEvent` it receives (its WebSocket clients and its latest-indicator reads).
"""

from src.common.event_bus import EventBus
from src.domain.alerts.events import AlertExpiredEvent, AlertTriggeredEvent
from src.domain.events import BarCompletedEvent, BarSyncedEvent, SyncFailedEvent
from src.infrastructure.streams.codec import DataclassCodec
from src.infrastructure.streams.redis_streams import Fields, StreamFollower, StreamWriter

BRIDGED_EVENTS: tuple[type, ...] = (BarCompletedEvent, BarSyncedEvent, SyncFailedEvent, AlertTriggeredEvent,
                                    AlertExpiredEvent)
ORIGIN, EVENT = "o", "e"


class EventBridge:
    def __init__(self, bus: EventBus, writer: StreamWriter, follower: StreamFollower, codec: DataclassCodec, *,
                 stream: str, process: str) -> None:
        self._bus = bus
        self._writer = writer
        self._follower = follower
        self._codec = codec
        self._stream = stream
        self._process = process.encode()
        self.exported = 0
        self.imported = 0

    def install(self) -> None:
        for event_type in BRIDGED_EVENTS:
            self._bus.subscribe(event_type, self.export, local_only=True)
        self._follower.follow(self._stream, self.deliver)

    def export(self, event: object) -> None:
        self._writer.put(self._stream, {ORIGIN: self._process, EVENT: self._codec.encode(event)})
        self.exported += 1

    async def deliver(self, fields: Fields) -> None:
        if fields.get(ORIGIN.encode()) == self._process:
            return
        event = self._codec.decode(fields[EVENT.encode()])
        self.imported += 1
        await self._bus.publish(event, remote=True)
