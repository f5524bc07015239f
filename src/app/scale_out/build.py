"""`scale_out(root)`: what a process adds to join a deployment of several processes (Redis configured).

Every process bridges its EventBus (`EventBridge`). A process with the `collector` role contends for the
collector lease and, while it holds it, owns the live sessions (`Collector`, `LivePublisher`). A process
with the `api` role mirrors the collector's live data (`LiveMirror`, feeding its WebSocket hub) and sends
control operations to it (`RemoteQuoteSessions`) whenever it is not the collector itself. Without Redis
nothing is added: one process does everything, as before.
"""

import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog
from redis.asyncio import Redis

from src.app.scale_out.codec import message_codec
from src.app.scale_out.collector import ClusterKeys, Collector
from src.app.scale_out.events import EventBridge
from src.app.scale_out.live import LiveMirror, LivePublisher
from src.app.scale_out.presence import Presence
from src.app.scale_out.remote import RemoteQuoteSessions
from src.common.lifecycle import Component
from src.common.settings import Settings
from src.features.quotes.service import QuoteService, QuoteStatus
from src.features.quotes.sessions import RoutedQuoteSessions
from src.features.quotes.ws import QuoteHub
from src.infrastructure.coordination.lease import RedisLease
from src.infrastructure.streams.codec import DataclassCodec
from src.infrastructure.streams.redis_streams import RedisStreams, StreamFollower, StreamWriter

if TYPE_CHECKING:
    from src.app.root import Root

log = structlog.get_logger("scale_out")
BLOCK_S = 0.5  # a blocking read waits this long for entries


def scale_out(root: "Root") -> None:
    settings = root.settings
    if settings.redis_url is None:
        return
    process, keys, codec = _process_id(), ClusterKeys(settings.cluster_redis_prefix), message_codec()
    streams = RedisStreams(_streams_client(settings), timeout_s=settings.redis_timeout_s,
                           max_length=settings.cluster_stream_max_length, block_s=BLOCK_S)
    writer, follower = StreamWriter(streams), StreamFollower(streams)
    bridge = EventBridge(root.event_bus, writer, follower, codec, stream=keys.events, process=process)
    bridge.install()
    presence = Presence(streams, prefix=keys.prefix, process=process, ttl_s=settings.collector_lease_s,
                        own_keys=(keys.replies(process),))
    root.lifecycle.add(Component("cluster-streams", start=_both(presence.start, writer.start, follower.start),
                                 stop=_both(follower.stop, writer.stop, presence.stop, streams.close),
                                 check=_connected(follower)))
    quotes = root.slices.get("quotes")
    collector = None
    if quotes is not None:
        service, hub, sessions = (quotes.exposed[name] for name in ("service", "hub", "sessions"))
        assert isinstance(service, QuoteService) and isinstance(hub, QuoteHub)
        assert isinstance(sessions, RoutedQuoteSessions)
        parts = _Parts(settings, streams, writer, follower, codec, keys, process)
        if "collector" in settings.roles:
            collector = _collector(parts, service, presence)
            root.lifecycle.add(Component("collector", start=collector.start, stop=collector.stop))
        if settings.serves_api:
            _serve_the_collectors_data(parts, service, hub, sessions, collector)
    _observe(root, bridge, writer, follower, collector)
    log.debug("scale_out_wired", process=process, roles=sorted(settings.roles))


@dataclass(frozen=True, slots=True)
class _Parts:
    """What every piece of a process's part in the deployment shares."""

    settings: Settings
    streams: RedisStreams
    writer: StreamWriter
    follower: StreamFollower
    codec: DataclassCodec
    keys: ClusterKeys
    process: str


def _collector(parts: _Parts, service: QuoteService, presence: Presence) -> Collector:
    """Contends for the collector lease; while it leads, its service's live data goes on the live stream."""
    settings, collector = parts.settings, None
    publisher = LivePublisher(parts.writer, parts.codec, stream=parts.keys.live, process=parts.process,
                              publishing=lambda: collector is not None and collector.leading and presence.others_alive)
    service.add_listener(publisher)
    lease = RedisLease(parts.streams.redis, parts.keys.lease, parts.process, ttl_s=settings.collector_lease_s,
                       timeout_s=settings.redis_timeout_s)
    collector = Collector(service, lease, parts.streams, parts.writer, parts.follower, parts.codec, presence,
                          keys=parts.keys, process=parts.process, status_every_s=settings.cluster_status_every_s,
                          report_status=lambda: publisher.on_status(service.status()))
    return collector


def _serve_the_collectors_data(parts: _Parts, service: QuoteService, hub: QuoteHub, sessions: RoutedQuoteSessions,
                               collector: Collector | None) -> None:
    """The live stream mirrored for the hub and the reads; control operations sent to the collector whenever
    this process is not the collector itself."""
    settings = parts.settings
    mirror = LiveMirror(parts.codec, process=parts.process, stale_after_s=3 * settings.cluster_status_every_s,
                        idle=_idle_status(service))
    mirror.add_listener(hub)
    parts.follower.follow(parts.keys.live, mirror.deliver)
    remote = RemoteQuoteSessions(parts.writer, parts.follower, parts.codec, mirror, keys=parts.keys,
                                 process=parts.process, timeout_s=settings.collector_command_timeout_s)
    remote.install()
    sessions.attach_remote(remote, is_local=lambda: collector is not None and collector.leading,
                           process=parts.process)


def _observe(root: "Root", bridge: EventBridge, writer: StreamWriter, follower: StreamFollower,
             collector: Collector | None) -> None:
    metrics = root.metrics
    metrics.observe_counter("cluster_events_exported", "Events appended to the events stream for other processes",
                            lambda: bridge.exported)
    metrics.observe_counter("cluster_events_imported", "Events of other processes published on this process's bus",
                            lambda: bridge.imported)
    metrics.observe_counter("cluster_stream_entries_dropped", "Stream entries dropped (Redis down, or too many "
                            "waiting)", lambda: writer.dropped)
    metrics.observe_counter("cluster_stream_entries_read", "Stream entries read", lambda: follower.entries_read)
    if collector is not None:
        leading = collector
        metrics.observe_gauge("collector_leading", "1 while this process holds the collector lease",
                              lambda: float(leading.leading))
        metrics.observe_counter("collector_lease_acquisitions", "Times this process became the collector",
                                lambda: leading.acquisitions)


def _both(*actions: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        for action in actions:
            await action()
    return run


def _connected(follower: StreamFollower) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return follower.connected
    return check


def _process_id() -> str:
    """Unique per start: `host:pid:random` (a restarted process is another one to the others)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _streams_client(settings: Settings) -> Redis:
    """A client of its own: blocking reads need a socket timeout above the block time."""
    assert settings.redis_url is not None
    timeout = settings.redis_timeout_s
    return Redis.from_url(settings.redis_url.get_secret_value(), socket_timeout=timeout + BLOCK_S,
                          socket_connect_timeout=timeout, max_connections=32)


def _idle_status(service: QuoteService) -> QuoteStatus:
    """What an API worker reports while no collector does: nothing running."""
    return QuoteStatus(running=False, connected=False, reconnect_count=0, intervals=service.intervals, symbols=(),
                       ticks_received=0, stale_ticks_total=0, bars_written=0, bars_skipped=0, bars_dropped=0,
                       bars_pending=0, cache_writes=0)
