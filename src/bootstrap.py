"""The composition root: the one place that builds adapters, handlers and subscribers and wires them.

The app factory and the tests build through `Container`; tests override providers to pass other
adapters (`container.cache.override(...)`). Nothing runs at import: providers are called when the app
starts. The Mongo repositories are created after the store has started (the embedded server's address
is only known then), which the lifecycle order guarantees.
"""

from typing import Any

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from dependency_injector import containers, providers

from src.common import cache_keys
from src.common.clock import SystemClock
from src.common.event_bus import EventBus
from src.common.injection import inject
from src.common.lifecycle import Component, Lifecycle
from src.common.mediator import Mediator
from src.domain.events import BarSyncedEvent, QuoteReceivedEvent, SyncFailedEvent
from src.features.market_data.handlers import HANDLERS as MARKET_DATA_HANDLERS
from src.features.market_data.jobs import SyncAllSymbolsJob, SyncDailyDataJob
from src.features.market_data.series_sync import SeriesSync
from src.features.market_data.subscribers import SUBSCRIBERS as MARKET_DATA_SUBSCRIBERS
from src.features.market_data.sync_runs import SyncRuns
from src.features.quotes.handlers import HANDLERS as QUOTES_HANDLERS
from src.features.quotes.service import QuoteService
from src.features.quotes.ws import QuoteHub
from src.infrastructure.cache.memory_cache import MemoryCache
from src.infrastructure.cache.redis_cache import RedisCache
from src.infrastructure.config.settings import Settings
from src.infrastructure.http.metrics import Metrics
from src.infrastructure.mongo.connection import MongoStore
from src.infrastructure.mongo.dead_letter_repository import MongoDeadLetterStore
from src.infrastructure.mongo.ohlcv_repository import MongoOHLCVRepository
from src.infrastructure.mongo.symbol_repository import MongoSymbolRepository
from src.infrastructure.mongo.sync_status_repository import MongoSyncStatusRepository
from src.infrastructure.scheduling.locks import MongoJobLock
from src.infrastructure.scheduling.scheduler import JobScheduler
from src.infrastructure.tradingview.client import TradingViewClient, TradingViewConfig

HANDLER_TABLES = (MARKET_DATA_HANDLERS, QUOTES_HANDLERS)
SUBSCRIBER_TABLES = (MARKET_DATA_SUBSCRIBERS,)

SYNC_ALL_SYMBOLS_EVERY = IntervalTrigger(hours=6, timezone="UTC")
SYNC_DAILY_DATA_AT = CronTrigger(day_of_week="mon-fri", hour="9-17", minute=0, timezone="UTC")
# Shutdown lets running syncs finish this long, then cancels them (they record the interruption). Must stay
# below the lifecycle's per-component stop timeout, or that timeout fires first and leaves them running.
COMPONENT_STOP_TIMEOUT_S = 10.0
SYNC_DRAIN_TIMEOUT_S = 5.0


def _mongo_store(settings: Settings) -> MongoStore:
    timeout_ms = int(settings.mongodb_timeout_s * 1000)
    return MongoStore(
        settings.mongodb_url.get_secret_value() if settings.mongodb_url else None,
        database=settings.mongodb_database,
        data_dir=settings.data_dir,
        server_selection_timeout_ms=timeout_ms,
        connect_timeout_ms=timeout_ms,
    )


def _collection_per_series(settings: Settings) -> bool:
    if settings.mongodb_collection_per_series is not None:
        return settings.mongodb_collection_per_series
    return settings.mongodb_url is None


def _cache(settings: Settings) -> RedisCache | MemoryCache:
    if settings.redis_url is None:
        return MemoryCache(generation_of=cache_keys.series_generation)
    return RedisCache(
        settings.redis_url.get_secret_value(),
        socket_timeout=settings.redis_timeout_s,
        generation_of=cache_keys.series_generation,
        near_prefixes=cache_keys.NEAR_CACHED_PREFIXES if settings.cache_near_enabled else (),
        near_max_entries=settings.cache_near_max_entries,
        near_max_bytes=settings.cache_near_max_bytes,
    )


def _tradingview(settings: Settings) -> TradingViewClient:
    password = settings.tradingview_password
    return TradingViewClient(
        TradingViewConfig(
            ws_url=settings.tradingview_ws_url,
            search_url=settings.tradingview_search_url,
            signin_url=settings.tradingview_signin_url,
            username=settings.tradingview_username,
            password=password.get_secret_value() if password else None,
            request_timeout=settings.tradingview_timeout_s,
            rate_limit=settings.tradingview_requests_per_s,
        )
    )


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    clock = providers.Singleton(SystemClock)
    event_bus = providers.Singleton(EventBus)
    metrics = providers.Singleton(Metrics)

    mongo = providers.Singleton(_mongo_store, settings)
    database = providers.Callable(lambda store: store.database, mongo)
    bars = providers.Singleton(
        MongoOHLCVRepository,
        database,
        collection_per_series=providers.Callable(_collection_per_series, settings),
    )
    sync_status = providers.Singleton(MongoSyncStatusRepository, database)
    symbols = providers.Singleton(MongoSymbolRepository, database)
    job_lock = providers.Singleton(lambda db: MongoJobLock(db["job_locks"]), database)
    dead_letters = providers.Singleton(MongoDeadLetterStore, database)

    cache = providers.Singleton(_cache, settings)
    tradingview = providers.Singleton(_tradingview, settings)

    sync_runs = providers.Singleton(SyncRuns)
    series_sync = providers.Singleton(
        SeriesSync, provider=tradingview, bars=bars, sync_status=sync_status, event_bus=event_bus, clock=clock
    )
    quote_service = providers.Singleton(
        QuoteService, quote_feed=tradingview, bars=bars, cache=cache, event_bus=event_bus, clock=clock
    )
    quote_hub = providers.Singleton(QuoteHub)
    scheduler = providers.Singleton(JobScheduler, job_lock)

    handler_dependencies = providers.Dict(
        provider=tradingview,
        bars=bars,
        sync_status=sync_status,
        symbols=symbols,
        cache=cache,
        event_bus=event_bus,
        clock=clock,
        sync_runs=sync_runs,
        series_sync=series_sync,
        quote_service=quote_service,
        bulk_concurrency=providers.Callable(lambda s: s.sync_bulk_concurrency, settings),
    )


def wire(container: Container) -> Mediator:
    """Everything that connects the parts: handlers, subscribers, metrics, live-data fan-out, jobs."""
    mediator = build_mediator(container)
    subscribe_all(container)
    observe_metrics(container)
    container.quote_service().add_listener(container.quote_hub())
    schedule_jobs(container, mediator)
    return mediator


def build_mediator(container: Container) -> Mediator:
    """Every slice's handler table merged into one Mediator; a type handled twice is refused."""
    deps = container.handler_dependencies()
    mediator = Mediator()
    for table in HANDLER_TABLES:
        for message_type, handler_class in table.items():
            mediator.register(message_type, inject(handler_class, deps))
    return mediator


def subscribe_all(container: Container) -> None:
    """Event subscribers are added here and nowhere else (the webhook ones by the HTTP edge's installer)."""
    bus, deps, metrics = container.event_bus(), container.handler_dependencies(), container.metrics()
    for table in SUBSCRIBER_TABLES:
        for event_type, subscriber_classes in table.items():
            for subscriber_class in subscriber_classes:
                bus.subscribe(event_type, inject(subscriber_class, deps))
    bus.subscribe(BarSyncedEvent, lambda _: metrics.syncs.labels(outcome="completed").inc())
    bus.subscribe(SyncFailedEvent, lambda e: metrics.syncs.labels(outcome=_failure_outcome(e.error_type)).inc())
    bus.subscribe(QuoteReceivedEvent, lambda _: metrics.quotes_received.inc())


def observe_metrics(container: Container) -> None:
    """Counters the components keep themselves, read at scrape time."""
    metrics, cache = container.metrics(), container.cache()
    tradingview, quote_service = container.tradingview(), container.quote_service()
    metrics.observe_event_bus(container.event_bus())
    metrics.observe_cache(hits=lambda: cache.hits, misses=lambda: cache.misses)
    if isinstance(cache, RedisCache):
        metrics.observe_counter(
            "cache_near_hits", "Cache hits served in-process by the near cache (included in cache hits)",
            lambda: cache.near_hits,
        )
    metrics.observe_counter(
        "tradingview_reconnections", "Reconnects of the TradingView connection", lambda: tradingview.reconnect_count
    )
    metrics.observe_counter(
        "quote_ticks_aggregated", "Ticks fed to the live bar aggregator", lambda: quote_service.status().ticks_received
    )


def schedule_jobs(container: Container, mediator: Mediator) -> None:
    scheduler, symbols = container.scheduler(), container.symbols()
    scheduler.add("sync_all_symbols", SyncAllSymbolsJob(mediator, symbols), SYNC_ALL_SYMBOLS_EVERY)
    scheduler.add("sync_daily_data", SyncDailyDataJob(mediator, symbols), SYNC_DAILY_DATA_AT)


def _failure_outcome(error_type: str) -> str:
    return {"SymbolNotFound": "not_found", "UpstreamUnavailable": "upstream_unavailable"}.get(error_type, "error")


def components(container: Container, settings: Settings) -> list[Component]:
    """Started in this order, stopped in reverse: the store is up before anything uses it and goes last."""
    mongo, cache, tradingview = container.mongo(), container.cache(), container.tradingview()
    quote_service, quote_hub, scheduler = container.quote_service(), container.quote_hub(), container.scheduler()

    async def ensure_indexes() -> None:
        for repository in (container.bars(), container.sync_status(), container.symbols(), container.dead_letters()):
            await repository.ensure_indexes()

    cache_start: Any = getattr(cache, "start", None)  # MemoryCache has none: it is in-process already
    cache_close: Any = getattr(cache, "aclose", None)
    sync_runs = container.sync_runs()
    listed = [
        Component("mongo", start=mongo.start, stop=mongo.stop, check=mongo.ping),
        Component("mongo-indexes", start=ensure_indexes),
        Component("cache", start=cache_start, stop=cache_close, check=cache.ping),
        # No start: the connection opens with the first request, so the service runs while TradingView is away.
        Component("tradingview", stop=tradingview.close),
        Component("syncs", stop=lambda: sync_runs.stop(timeout_s=SYNC_DRAIN_TIMEOUT_S)),
        Component("quotes", start=quote_service.start, stop=quote_service.stop, check=quote_service.check),
        Component("quote-hub", stop=quote_hub.close),
    ]
    if settings.scheduler_enabled:
        listed.append(Component("scheduler", start=scheduler.start, stop=scheduler.stop, check=scheduler.check))
    return listed


def build_lifecycle(container: Container) -> Lifecycle:
    return Lifecycle(components(container, container.settings()), stop_timeout_s=COMPONENT_STOP_TIMEOUT_S)
