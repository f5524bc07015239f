"""`install_edge`: the HTTP edge in one call. Middleware, outermost first:

    CorrelationId (+ request metrics) → CORS (when origins are set) → RateLimit → Idempotency → routes

plus the problem+json handlers, `GET /metrics`, and the webhook dispatcher subscribed to the EventBus.
Its resources (a Redis client it created, the webhook HTTP session) start and stop with the app's
lifespan, inside the container's lifecycle.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from redis.asyncio import Redis
from starlette.middleware.cors import CORSMiddleware

from src.common.event_bus import EventBus
from src.infrastructure.config.settings import Settings
from src.infrastructure.http.correlation_middleware import CorrelationIdMiddleware
from src.infrastructure.http.idempotency import (
    IdempotencyMiddleware,
    IdempotencyStore,
    InProcessIdempotencyStore,
    RedisIdempotencyStore,
)
from src.infrastructure.http.metrics import Metrics, install_metrics_route
from src.infrastructure.http.problems import install_problem_handlers, send_internal_error
from src.infrastructure.http.rate_limit import (
    InProcessLimiter,
    Limiter,
    RateLimitMiddleware,
    RedisLimiter,
    TrustedProxies,
)
from src.infrastructure.webhooks import DeadLetterStore, WebhookDispatcher, subscribe_webhooks

EXPOSED_HEADERS = [
    "X-Correlation-ID", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset",
    "Idempotent-Replayed",
]


@dataclass
class Edge:
    """What `install_edge` built, on `app.state.edge`; tests and the composition root reach in here."""

    metrics: Metrics
    limiter: Limiter | None
    idempotency_store: IdempotencyStore
    redis: Redis | None = None
    webhooks: WebhookDispatcher | None = None
    _owned_redis: bool = field(default=False, repr=False)

    async def start(self) -> None:
        if self.webhooks is not None:
            await self.webhooks.start()

    async def stop(self) -> None:
        if self.webhooks is not None:
            await self.webhooks.stop()
        if self.redis is not None and self._owned_redis:
            await self.redis.aclose()


def redis_from_settings(settings: Settings) -> Redis | None:
    if settings.redis_url is None:
        return None
    return Redis.from_url(
        settings.redis_url.get_secret_value(),
        socket_timeout=settings.redis_timeout_s,
        socket_connect_timeout=settings.redis_timeout_s,
    )


def install_edge(
    app: FastAPI,
    settings: Settings,
    *,
    metrics: Metrics | None = None,
    redis: Redis | str | None = None,
    event_bus: EventBus | None = None,
    webhooks: WebhookDispatcher | None = None,
    dead_letters: DeadLetterStore | None = None,
) -> Edge:
    """Install the edge on `app`. `redis`: a client (not closed by the edge), a URL, or None to use
    `settings.redis_url` (in-process limiter and idempotency store when that is unset too)."""
    metrics = metrics or Metrics()
    owned = not isinstance(redis, Redis)
    client = Redis.from_url(redis, socket_timeout=settings.redis_timeout_s,
                            socket_connect_timeout=settings.redis_timeout_s) if isinstance(redis, str) else redis
    if client is None:
        client = redis_from_settings(settings)
    edge = Edge(
        metrics=metrics,
        limiter=_limiter(settings, client, metrics) if settings.rate_limit_enabled else None,
        idempotency_store=(
            RedisIdempotencyStore(client, prefix=settings.edge_redis_prefix) if client is not None
            else InProcessIdempotencyStore()
        ),
        redis=client,
        _owned_redis=owned,
    )
    if event_bus is not None:
        metrics.observe_event_bus(event_bus)
        if settings.webhook_urls:
            edge.webhooks = webhooks or _dispatcher(settings, metrics, dead_letters)
            subscribe_webhooks(event_bus, edge.webhooks)

    _add_middleware(app, settings, edge)
    install_problem_handlers(app)
    install_metrics_route(app, metrics)
    _wrap_lifespan(app, edge)
    app.state.edge = edge
    app.state.metrics = metrics
    return edge


def _limiter(settings: Settings, client: Redis | None, metrics: Metrics) -> Limiter:
    capacity, refill = settings.rate_limit_capacity, settings.rate_limit_refill_per_s
    if client is None:
        return InProcessLimiter(capacity, refill)
    return RedisLimiter(client, capacity, refill, metrics=metrics, prefix=settings.edge_redis_prefix)


def _dispatcher(settings: Settings, metrics: Metrics, dead_letters: DeadLetterStore | None) -> WebhookDispatcher:
    secret = settings.webhook_secret.get_secret_value().encode() if settings.webhook_secret else None
    return WebhookDispatcher(
        settings.webhook_urls,
        secret=secret,
        timeout_s=settings.webhook_timeout_s,
        max_attempts=settings.webhook_max_attempts,
        backoff_base_s=settings.webhook_backoff_base_s,
        backoff_max_s=settings.webhook_backoff_max_s,
        max_in_flight=settings.webhook_max_in_flight,
        drain_timeout_s=settings.webhook_drain_timeout_s,
        dead_letters=dead_letters,
        metrics=metrics,
    )


def _add_middleware(app: FastAPI, settings: Settings, edge: Edge) -> None:
    # `add_middleware` puts each new one outside the previous: add from the innermost out.
    app.add_middleware(
        IdempotencyMiddleware,
        store=edge.idempotency_store,
        metrics=edge.metrics,
        ttl_s=settings.idempotency_ttl_s,
        lock_ttl_s=settings.idempotency_lock_ttl_s,
        max_body_bytes=settings.idempotency_max_body_bytes,
    )
    if edge.limiter is not None:
        app.add_middleware(
            RateLimitMiddleware,
            limiter=edge.limiter,
            metrics=edge.metrics,
            exempt_paths=settings.rate_limit_exempt_paths,
            trusted_proxies=TrustedProxies(settings.trusted_proxies),
            headers_always=settings.rate_limit_headers_always,
        )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Content-Type", "Authorization", "Idempotency-Key", "X-Correlation-ID"],
            expose_headers=EXPOSED_HEADERS,
            max_age=600,
        )
    app.add_middleware(CorrelationIdMiddleware, on_error=send_internal_error, record=edge.metrics.http.record)


def _wrap_lifespan(app: FastAPI, edge: Edge) -> None:
    inner: Any = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        async with inner(app_) as state:
            await edge.start()
            try:
                yield state
            finally:
                await edge.stop()

    app.router.lifespan_context = lifespan
