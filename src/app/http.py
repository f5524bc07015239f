"""The HTTP app of a `Root`: every slice's routers, the edge middleware, problem+json, `/metrics`, and a
lifespan that starts and stops the root's lifecycle.

Middleware, outermost first: CorrelationId (+ the request guard — Host, cross-site state changes, body
size —, request metrics and the access log) → CORS (when origins are set) → Authentication (when on) → RateLimit
(per principal, else per address) → Idempotency → routes. Every route gets the route guard as a dependency
(`route_guard`): the access map's check (`src/app/access.py`) when authentication is on, and strict
query strings.
"""

import gc
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import structlog
from fastapi import APIRouter, Depends, FastAPI, Response
from fastapi.params import Depends as DependsParam
from fastapi.routing import APIRoute, APIWebSocketRoute
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.middleware.cors import CORSMiddleware

from src.app.access import route_access
from src.app.api_docs import mount_api_docs
from src.app.root import Overrides, Root, bootstrap
from src.app.route_guard import RouteGuard
from src.app.slices import SLICES
from src.app.web import WEB_DIST, mount_web_app
from src.common.settings import Settings, load_settings
from src.domain.identity.exposure import default_trusted_hosts, is_loopback
from src.infrastructure.http.authentication import AuthenticationMiddleware
from src.infrastructure.http.authorization import RouteAccess, RouteKey
from src.infrastructure.http.correlation_middleware import CorrelationIdMiddleware
from src.infrastructure.http.idempotency import IdempotencyMiddleware
from src.infrastructure.http.openapi import install_exact_openapi
from src.infrastructure.http.problems import install_problem_handlers, send_internal_error
from src.infrastructure.http.rate_limit import RateLimitMiddleware, TrustedProxies
from src.infrastructure.http.request_guard import HostRules, RequestGuard
from src.infrastructure.observability.logging import AccessLog

log = structlog.get_logger("app")

OPENAPI_PATH = "/api/v1/openapi.json"
# Without the `api` role a process serves only these slices' routes (and /metrics): it can be probed and scraped.
OPERATIONS_SLICES = frozenset({"system"})

EXPOSED_HEADERS = [
    "X-Correlation-ID", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset",
    "Idempotent-Replayed",
]


def create_app(settings: Settings | None = None, overrides: Overrides | None = None) -> FastAPI:
    return http_app(bootstrap(settings or load_settings(), overrides))


def http_app(root: Root) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await root.lifecycle.start()
        # What exists now lives as long as the process: keep full collections from rescanning it (p99 latency).
        gc.collect()
        gc.freeze()
        _say_how_it_is_exposed(root)
        try:
            yield
        finally:
            await root.lifecycle.stop()
            log.info("pocketquant stopped")

    app = FastAPI(
        title="PocketQuant",
        version="0.2.0",
        summary="Self-hosted market data: OHLCV history, live quotes and bars over REST and WebSocket.",
        docs_url=None,  # `mount_api_docs`: FastAPI's page loads Swagger UI from a CDN
        openapi_url=OPENAPI_PATH,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.mediator = root.mediator  # the one object routes reach (`MediatorDep`)
    access = RouteAccess(route_access(root.settings))
    served = [s for s in SLICES if root.settings.serves_api or s.name in OPERATIONS_SLICES]
    routers = [router for slice_ in served for router in slice_.routers]
    access.require_all([*_route_keys(routers), ("GET", "/metrics")])  # no route is open by omission
    enforced = access if _auth_on(root) else None
    checks: list[DependsParam] = [Depends(RouteGuard(enforced, app))]
    for router in routers:
        app.include_router(router, dependencies=checks)
    _install_edge(app, root, checks)
    install_exact_openapi(app, enforced)
    mount_api_docs(app, OPENAPI_PATH)
    if root.settings.serves_api:  # the app calls the API: a process without the `api` role has none to offer
        # `/` and `/assets`, after every API route; an installed package (the image) names the build's folder.
        mount_web_app(app, Path(root.settings.web_dist_dir) if root.settings.web_dist_dir else WEB_DIST)
    return app


def _say_how_it_is_exposed(root: Root) -> None:
    settings = root.settings
    log.info("pocketquant started", environment=settings.environment, roles=sorted(settings.roles),
             store=root.store.kind if root.store else "overridden", sources=list(root.core.providers.sources),
             authentication="on" if _auth_on(root) else "off")
    if not settings.trusted_hosts and not is_loopback(settings.api_host):
        log.warning("answering any Host header: set TRUSTED_HOSTS to the names this service is reached by",
                    api_host=settings.api_host)
    if not _auth_on(root):
        log.warning("authentication is OFF: whoever reaches this port acts as an admin; allowed only in "
                    "development on a loopback address. Set AUTH_JWT_SECRET to turn it on.",
                    address=f"{settings.api_host}:{settings.api_port}")


def _auth_on(root: Root) -> bool:
    return root.settings.auth_jwt_secret is not None


def _route_keys(routers: Iterable[APIRouter]) -> Iterator[RouteKey]:
    for router in routers:
        for route in router.routes:
            if isinstance(route, APIWebSocketRoute):
                yield "WS", route.path
            elif isinstance(route, APIRoute):
                yield from ((method, route.path) for method in route.methods or ())


def _install_edge(app: FastAPI, root: Root, checks: list[DependsParam]) -> None:
    settings, metrics = root.settings, root.metrics
    # `add_middleware` puts each new one outside the previous: add from the innermost out.
    app.add_middleware(
        IdempotencyMiddleware,
        store=root.idempotency,
        metrics=metrics,
        ttl_s=settings.idempotency_ttl_s,
        lock_ttl_s=settings.idempotency_lock_ttl_s,
        max_body_bytes=settings.idempotency_max_body_bytes,
    )
    if settings.rate_limit_enabled:
        app.add_middleware(
            RateLimitMiddleware,
            limiter=root.limiter,
            metrics=metrics,
            exempt_paths=settings.rate_limit_exempt_paths,
            trusted_proxies=TrustedProxies(settings.trusted_proxies),
            headers_always=settings.rate_limit_headers_always,
        )
    if _auth_on(root):
        app.add_middleware(AuthenticationMiddleware, authenticator=root.core.authenticator)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Content-Type", "Authorization", "Idempotency-Key", "X-Correlation-ID"],
            expose_headers=EXPOSED_HEADERS,
            max_age=600,
        )
    guard = RequestGuard(
        max_body_bytes=settings.max_request_body_bytes,
        trusted_hosts=HostRules(settings.trusted_hosts or default_trusted_hosts(settings.api_host)),
        trusted_origins=settings.cors_origins,
    )
    access_log = AccessLog(level=settings.log_level, fmt=settings.effective_log_format) if settings.access_log else None
    app.add_middleware(CorrelationIdMiddleware, on_error=send_internal_error, record=metrics.http.record,
                       access_log=access_log.record if access_log else None, guard=guard)
    install_problem_handlers(app)

    async def prometheus_metrics() -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    app.add_api_route("/metrics", prometheus_metrics, methods=["GET"], include_in_schema=False, dependencies=checks)
