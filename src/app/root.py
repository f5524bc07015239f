"""`bootstrap(settings, overrides)`: builds every object of the service once, wires the slices, and returns
the `Root` whose lifecycle starts and stops them in order. The HTTP app (`src.app.http`), `make run` and
the tests all build through it; tests pass fakes in `Overrides` instead of the adapters built here.

Nothing happens at import. Mongo repositories are created before the store starts (the embedded
server's port is fixed on creation) and used only after the lifecycle started it.
"""

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from redis.asyncio import Redis

from src.app.core import Core
from src.app.providers import build_providers
from src.app.scale_out.build import scale_out
from src.app.slices import SLICES
from src.app.sources import SourceGuards
from src.common import cache_keys
from src.common.calendars import SymbolCalendars
from src.common.clock import SystemClock
from src.common.event_bus import EventBus
from src.common.lifecycle import Component, Lifecycle
from src.common.live import LiveQuotes
from src.common.mediator import Mediator
from src.common.ports import (
    AccessTokens,
    AlertRuleRepository,
    AlertTriggerRepository,
    ApiKeyRepository,
    Cache,
    Clock,
    DeadLetterRepository,
    Leases,
    OHLCVRepository,
    OperatorConsole,
    PasswordHasher,
    Provider,
    QualityRepository,
    RefreshTokenRepository,
    RunOwner,
    SymbolMetadataRepository,
    SymbolRepository,
    SyncStatusRepository,
    UserRepository,
    WebhookSender,
)
from src.common.providers import ProviderRegistry
from src.common.settings import Settings, SettingsError
from src.domain.events import BarSyncedEvent, SyncFailedEvent
from src.domain.identity import WeakPassword, check_password
from src.domain.identity.exposure import may_run_open
from src.domain.market_data.time_zone import TimeZoneRules
from src.features.shared.slice import SliceParts
from src.infrastructure.auth.authenticator import CachingAuthenticator
from src.infrastructure.auth.console import StderrConsole
from src.infrastructure.auth.jwt_tokens import JwtAccessTokens, NoAccessTokens
from src.infrastructure.auth.passwords import Argon2Passwords
from src.infrastructure.auth.repositories import (
    MongoApiKeyRepository,
    MongoRefreshTokenRepository,
    MongoUserRepository,
)
from src.infrastructure.auth.secrets import SystemSecrets
from src.infrastructure.cache.broadcast import InProcessBroadcast, RedisBroadcast
from src.infrastructure.cache.circuit_breaker import BreakerState, CircuitBreaker
from src.infrastructure.cache.memory_cache import MemoryCache
from src.infrastructure.cache.redis_cache import RedisCache
from src.infrastructure.cache.redis_client import log_breaker_change, redis_client
from src.infrastructure.coordination.leases import InProcessLeases, RedisLeases
from src.infrastructure.http.client_limits import EdgeClientLimits
from src.infrastructure.http.idempotency_store import (
    IdempotencyStore,
    InProcessIdempotencyStore,
    RedisIdempotencyStore,
)
from src.infrastructure.http.rate_limit import InProcessLimiter, Limiter, RedisLimiter, TrustedProxies
from src.infrastructure.mongo.alert_repository import MongoAlertRuleRepository, MongoAlertTriggerRepository
from src.infrastructure.mongo.connection import MongoStore
from src.infrastructure.mongo.dead_letter_repository import MongoDeadLetterStore
from src.infrastructure.mongo.migrations import StoreMigrations
from src.infrastructure.mongo.ohlcv_repository import MongoOHLCVRepository
from src.infrastructure.mongo.quality_repository import MongoQualityRepository
from src.infrastructure.mongo.symbol_metadata_repository import MongoSymbolMetadataRepository
from src.infrastructure.mongo.symbol_repository import MongoSymbolRepository
from src.infrastructure.mongo.sync_status_repository import MongoSyncStatusRepository
from src.infrastructure.mongo.webhook_outbox import MongoWebhookOutbox
from src.infrastructure.notify.webhooks import WebhookDispatcher
from src.infrastructure.observability.metrics import Metrics
from src.infrastructure.process_owner import ProcessOwner
from src.infrastructure.scheduling.job_store import JobStore, MongoJobStore
from src.infrastructure.scheduling.scheduler import JobScheduler
from src.infrastructure.timezones import time_zone_rules

ZONE_YEARS = (1970, 2045)


@dataclass(frozen=True, slots=True, kw_only=True)
class Overrides:
    """Adapters given instead of the ones the root would build from settings (tests pass fakes here).
    With every store adapter given, no MongoDB store is built at all."""

    clock: Clock | None = None
    providers: Sequence[Provider] | None = None
    bars: OHLCVRepository | None = None
    sync_status: SyncStatusRepository | None = None
    symbols: SymbolRepository | None = None
    symbol_metadata: SymbolMetadataRepository | None = None
    dead_letters: DeadLetterRepository | None = None
    job_store: JobStore | None = None
    cache: Cache | None = None
    webhooks: WebhookSender | None = None
    run_owner: RunOwner | None = None
    users: UserRepository | None = None
    api_keys: ApiKeyRepository | None = None
    refresh_tokens: RefreshTokenRepository | None = None
    passwords: PasswordHasher | None = None  # tests pass a fast one: Argon2 costs tens of ms on purpose
    console: OperatorConsole | None = None
    quality: QualityRepository | None = None
    alert_rules: AlertRuleRepository | None = None
    alert_triggers: AlertTriggerRepository | None = None
    leases: Leases | None = None

    @property
    def replaces_the_store(self) -> bool:
        adapters = (self.bars, self.sync_status, self.symbols, self.symbol_metadata, self.dead_letters, self.job_store,
                    self.users, self.api_keys, self.refresh_tokens, self.quality, self.alert_rules,
                    self.alert_triggers)
        return all(adapter is not None for adapter in adapters)


@dataclass(slots=True)
class Root:
    """What `bootstrap` built. The HTTP edge takes `limiter`, `idempotency` and `metrics` from here."""

    settings: Settings
    core: Core
    lifecycle: Lifecycle
    metrics: Metrics
    limiter: Limiter
    idempotency: IdempotencyStore
    scheduler: JobScheduler
    redis: Redis | None = None
    store: MongoStore | None = None
    slices: dict[str, SliceParts] = field(default_factory=dict)
    guards: SourceGuards | None = None  # each source's circuit breaker and request budget
    redis_breaker: CircuitBreaker | None = None  # in front of every command of `redis`

    @property
    def mediator(self) -> Mediator:
        return self.core.mediator

    @property
    def event_bus(self) -> EventBus:
        return self.core.event_bus


def bootstrap(settings: Settings, overrides: Overrides | None = None) -> Root:
    refuse_to_run_open_where_others_reach(settings)
    given = overrides or Overrides()
    store = None if given.replaces_the_store else _mongo_store(settings)
    redis, breaker = _redis(settings)
    metrics = Metrics()
    guards = SourceGuards(settings, redis)
    lifecycle = Lifecycle(stop_timeout_s=settings.component_stop_timeout_s)
    dead_letters = given.dead_letters or MongoDeadLetterStore(_database(store))
    scheduler = JobScheduler(given.job_store or MongoJobStore(_database(store)["scheduled_jobs"]),
                             on_run=lambda job, outcome: metrics.job_runs.labels(job, outcome).inc())
    clock = given.clock or SystemClock()
    users = given.users or MongoUserRepository(_database(store))
    api_keys = given.api_keys or MongoApiKeyRepository(_database(store))
    access_tokens = _access_tokens(settings)
    secrets = SystemSecrets()
    providers = ProviderRegistry(guards.wrap(given.providers if given.providers is not None
                                             else build_providers(settings, guards.limiter_for)))
    symbol_metadata = given.symbol_metadata or MongoSymbolMetadataRepository(_database(store))
    limiter = _limiter(settings, redis, metrics)
    core = Core(
        settings=settings,
        clock=clock,
        event_bus=EventBus(),
        mediator=Mediator(),
        providers=providers,
        bars=given.bars or MongoOHLCVRepository(_database(store), collections_per_chunk=_per_series(settings)),
        sync_status=given.sync_status or MongoSyncStatusRepository(_database(store)),
        symbols=given.symbols or MongoSymbolRepository(_database(store)),
        dead_letters=dead_letters,
        cache=given.cache or _cache(settings, redis),
        webhooks=given.webhooks or _webhooks(settings, store, dead_letters, metrics),
        health=lifecycle,
        jobs=scheduler,
        run_owner=given.run_owner or ProcessOwner(),
        users=users,
        api_keys=api_keys,
        refresh_tokens=given.refresh_tokens or MongoRefreshTokenRepository(_database(store)),
        passwords=given.passwords or Argon2Passwords(),
        access_tokens=access_tokens,
        authenticator=CachingAuthenticator(access_tokens, api_keys, users, secrets, clock),
        secrets=secrets,
        console=given.console or StderrConsole(),
        symbol_metadata=symbol_metadata,
        quality=given.quality or MongoQualityRepository(_database(store)),
        calendars=SymbolCalendars(providers, symbol_metadata, clock, _zone_rules,
                                  max_age_s=settings.symbol_metadata_max_age_s),
        client_limits=EdgeClientLimits(limiter, TrustedProxies(settings.trusted_proxies),
                                       enabled=settings.rate_limit_enabled),
        live=LiveQuotes(),
        alert_rules=given.alert_rules or MongoAlertRuleRepository(_database(store)),
        alert_triggers=given.alert_triggers or MongoAlertTriggerRepository(_database(store)),
        leases=given.leases or (InProcessLeases(clock.now) if redis is None else RedisLeases(redis, prefix="pq:")),
        broadcast=InProcessBroadcast() if redis is None else RedisBroadcast(redis),
    )
    root = Root(settings, core, lifecycle, metrics, limiter,
                _idempotency(settings, redis), scheduler, redis, store, guards=guards, redis_breaker=breaker)
    lifecycle.add(*_resource_components(root))
    for slice_ in SLICES:
        root.slices[slice_.name] = parts = slice_.build(core)
        _wire(root, parts)
    _observe(root)
    scale_out(root)  # with Redis: cross-process events, the collector lease, the live data of API workers
    if settings.runs_scheduler:  # SCHEDULER_ENABLED and the scheduler role
        lifecycle.add(Component("scheduler", start=scheduler.start, stop=scheduler.stop, check=scheduler.check))
    return root


def refuse_to_run_open_where_others_reach(settings: Settings) -> None:
    """Without a signing key the service runs open (every caller is an admin): allowed only in development
    on a loopback address, where only this machine reaches it."""
    if settings.auth_jwt_secret is None and not may_run_open(settings.environment, settings.api_host):
        where = f"ENVIRONMENT={settings.environment}" if settings.environment != "development" else \
            f"API_HOST={settings.api_host} (reachable from other machines)"
        raise SettingsError(f"refusing to start without authentication with {where}: set AUTH_JWT_SECRET "
                            "(e.g. `openssl rand -hex 32`); the first admin's password is then printed once")
    if settings.admin_password is not None:
        try:
            check_password(settings.admin_password.get_secret_value(), settings.admin_username)
        except WeakPassword as weak:
            raise SettingsError(f"invalid setting ADMIN_PASSWORD: {weak}") from None


def _access_tokens(settings: Settings) -> AccessTokens:
    if settings.auth_jwt_secret is None:
        return NoAccessTokens()
    previous = [s.get_secret_value() for s in settings.auth_jwt_previous_secrets]
    return JwtAccessTokens(settings.auth_jwt_secret.get_secret_value(), previous=previous,
                           ttl_s=settings.auth_access_token_ttl_s)


def _wire(root: Root, parts: SliceParts) -> None:
    for message_type, handler in parts.handlers.items():
        root.mediator.register(message_type, handler)  # a type handled twice is refused
    for event_type, subscribers in parts.subscribers.items():
        for subscriber in subscribers:
            root.event_bus.subscribe(event_type, subscriber)
    for job in parts.jobs:
        root.scheduler.add(job)
    root.lifecycle.add(*parts.components)


# --- adapters built from settings -------------------------------------------------------------------


def _mongo_store(settings: Settings) -> MongoStore:
    timeout_ms = int(settings.mongodb_timeout_s * 1000)
    return MongoStore(
        settings.mongodb_url.get_secret_value() if settings.mongodb_url else None,
        database=settings.mongodb_database,
        data_dir=settings.data_dir,
        server_selection_timeout_ms=timeout_ms,
        connect_timeout_ms=timeout_ms,
    )


def _database(store: MongoStore | None):  # type: ignore[no-untyped-def]
    if store is None:
        raise ValueError("a store adapter was not overridden, so the store must be built")
    return store.database


def _redis(settings: Settings) -> tuple[Redis | None, CircuitBreaker | None]:
    if settings.redis_url is None:
        return None, None
    breaker = CircuitBreaker(failures_to_open=settings.redis_breaker_failures, open_s=settings.redis_breaker_open_s,
                             max_open_s=settings.redis_breaker_max_open_s, on_change=log_breaker_change)
    url = settings.redis_url.get_secret_value()
    return redis_client(url, timeout_s=settings.redis_timeout_s, breaker=breaker), breaker


def _zone_rules(name: str) -> TimeZoneRules:
    """A zone's offsets over every year a stored bar may have (epoch times start in 1970)."""
    return time_zone_rules(name, ZONE_YEARS[0], ZONE_YEARS[1])


def _per_series(settings: Settings) -> bool:
    if settings.mongodb_collection_per_series is not None:
        return settings.mongodb_collection_per_series
    return settings.mongodb_url is None


def _cache(settings: Settings, redis: Redis | None) -> Cache:
    if redis is None:
        return MemoryCache(generation_of=cache_keys.series_generation)
    return RedisCache(
        redis,
        socket_timeout=settings.redis_timeout_s,
        generation_of=cache_keys.series_generation,
        near_prefixes=cache_keys.NEAR_CACHED_PREFIXES if settings.cache_near_enabled else (),
        near_max_entries=settings.cache_near_max_entries,
        near_max_bytes=settings.cache_near_max_bytes,
    )


def _webhooks(settings: Settings, store: MongoStore | None, dead_letters: DeadLetterRepository,
              metrics: Metrics) -> WebhookDispatcher | None:
    if not settings.webhook_urls:
        return None
    secret = settings.webhook_secret.get_secret_value().encode() if settings.webhook_secret else None
    return WebhookDispatcher(
        settings.webhook_urls,
        secret=secret,
        outbox=MongoWebhookOutbox(_database(store)),
        timeout_s=settings.webhook_timeout_s,
        max_attempts=settings.webhook_max_attempts,
        backoff_base_s=settings.webhook_backoff_base_s,
        backoff_max_s=settings.webhook_backoff_max_s,
        max_in_flight=settings.webhook_max_in_flight,
        drain_timeout_s=settings.webhook_drain_timeout_s,
        dead_letters=dead_letters,
        on_outcome=lambda outcome: metrics.webhook_deliveries.labels(outcome).inc(),
    )


def _limiter(settings: Settings, redis: Redis | None, metrics: Metrics) -> Limiter:
    capacity, refill = settings.rate_limit_capacity, settings.rate_limit_refill_per_s
    if redis is None:
        return InProcessLimiter(capacity, refill)
    return RedisLimiter(redis, capacity, refill, metrics=metrics, prefix=settings.edge_redis_prefix)


def _idempotency(settings: Settings, redis: Redis | None) -> IdempotencyStore:
    if redis is None:
        return InProcessIdempotencyStore()
    return RedisIdempotencyStore(redis, prefix=settings.edge_redis_prefix)


# --- lifecycle and metrics ----------------------------------------------------------------------------


def _resource_components(root: Root) -> list[Component]:
    """The root's own resources, started in this order before the slices' and stopped after them."""
    core, components = root.core, []
    if root.store is not None:
        store = root.store
        components.append(Component("mongo", start=store.start, stop=store.stop, check=store.ping))
        components.append(Component("mongo-schema", start=lambda: _prepare_store(root)))
    if root.redis is not None:
        redis = root.redis
        # No check of its own: the cache's check pings this client, which the limiter and idempotency share.
        components.append(Component("redis", stop=redis.aclose))
    if isinstance(core.broadcast, RedisBroadcast):
        broadcast = core.broadcast
        components.append(Component("broadcast", start=broadcast.start, stop=broadcast.stop))
    cache = core.cache
    components.append(Component("cache", start=getattr(cache, "start", None), stop=getattr(cache, "aclose", None),
                                check=cache.ping))
    # No start: a source is contacted on the first request that needs it, so the service runs without it.
    # The check is the source's circuit: healthy while closed.
    assert root.guards is not None
    components += [Component(f"source-{p.source}", stop=p.close, check=root.guards[p.source].check)
                   for p in core.providers]
    webhooks = core.webhooks
    if isinstance(webhooks, WebhookDispatcher):
        components.append(Component("webhooks", start=webhooks.start, stop=webhooks.stop))
    return components


async def _prepare_store(root: Root) -> None:
    assert root.store is not None
    bars = root.core.bars if isinstance(root.core.bars, MongoOHLCVRepository) else None
    await StoreMigrations(root.store.database, bars).run()
    core = root.core
    outbox = core.webhooks.outbox if isinstance(core.webhooks, WebhookDispatcher) else None
    for repository in (core.bars, core.sync_status, core.symbols, core.dead_letters, core.users, core.api_keys,
                       core.refresh_tokens, outbox, core.alert_rules, core.alert_triggers):
        ensure = getattr(repository, "ensure_indexes", None)
        if ensure is not None:
            await ensure()


def _observe(root: Root) -> None:
    """Counters the components keep themselves, read when Prometheus scrapes, and event-driven counts."""
    metrics, core = root.metrics, root.core
    metrics.observe_event_bus(core.event_bus)
    cache = core.cache
    metrics.observe_cache(hits=lambda: getattr(cache, "hits", 0), misses=lambda: getattr(cache, "misses", 0))
    if isinstance(cache, RedisCache):
        metrics.observe_counter("cache_near_hits", "Cache hits served in-process by the near cache (included in "
                                "cache hits)", lambda: cache.near_hits)
        metrics.observe_counter("cache_errors", "Cache operations that failed (answered as misses)",
                                lambda: cache.errors)
    if root.redis_breaker is not None:
        _observe_breaker(metrics, root.redis_breaker)
    feeds = {p.source: p.quotes for p in core.providers if p.quotes is not None}
    metrics.observe_labeled_counter("provider_reconnections", "Reconnects of each source's live connection",
                                    "source", lambda: {s: f.reconnect_count for s, f in feeds.items()})
    if root.guards is not None:
        root.guards.observe(metrics)
    bars = core.bars
    if isinstance(bars, MongoOHLCVRepository):
        metrics.observe_counter("store_documents_read", "Chunk and directory documents read", lambda: bars.docs_fetched)
        metrics.observe_counter("store_write_conflicts", "Optimistic chunk writes retried after a concurrent write",
                                lambda: bars.write_conflicts)
    for parts in root.slices.values():
        for counter in parts.counters:
            metrics.observe_counter(counter.name, counter.documentation, counter.read)
        for labeled in parts.labeled:
            observe = metrics.observe_labeled_gauge if labeled.gauge else metrics.observe_labeled_counter
            observe(labeled.name, labeled.documentation, labeled.label, functools.partial(_plain, labeled.read))
    syncs = metrics.syncs
    core.event_bus.subscribe(BarSyncedEvent, lambda _: syncs.labels(outcome="completed").inc(), local_only=True)
    core.event_bus.subscribe(SyncFailedEvent, lambda e: syncs.labels(outcome=_failure_outcome(e.error_type)).inc(),
                             local_only=True)


def _plain(read: Callable[[], Mapping[str, float]]) -> dict[str, float]:
    return dict(read())


def _observe_breaker(metrics: Metrics, breaker: CircuitBreaker) -> None:
    metrics.observe_gauge("redis_circuit_open", "1 while the Redis circuit breaker is open (commands fail at once)",
                          lambda: float(breaker.state is not BreakerState.CLOSED))
    metrics.observe_counter("redis_circuit_opened", "Times the Redis circuit breaker opened",
                            lambda: breaker.times_opened)
    metrics.observe_counter("redis_circuit_rejections", "Redis commands refused at once while the breaker was open",
                            lambda: breaker.rejections)


def _failure_outcome(error_type: str) -> str:
    return {"SymbolNotFound": "not_found", "UpstreamUnavailable": "upstream_unavailable"}.get(error_type, "error")
