"""Who may call what: the one map from every route to what it requires, applied by the HTTP app to every
route (a FastAPI dependency) and written into the OpenAPI document.

Adding a route means adding its line here: the app refuses to build while a route is missing from this
map, and `tests/e2e/test_access_map.py` calls every route as every kind of caller and checks the answer
against it. What each role may do is the domain's table (`src/domain/identity/roles.py`).
"""

from src.common.settings import Settings
from src.domain.identity import Permission
from src.infrastructure.http.authorization import PUBLIC, Access, RouteKey

READ = Permission.READ
OWN_ACCOUNT = Permission.USE_OWN_ACCOUNT


def route_access(settings: Settings) -> dict[RouteKey, Access]:
    return {
        # --- system
        ("GET", "/health"): PUBLIC if settings.health_public else READ,
        ("GET", "/metrics"): PUBLIC if settings.metrics_public else READ,
        ("GET", "/api/v1/jobs"): READ,
        ("POST", "/api/v1/jobs/{name}/run"): Permission.RUN_JOBS,
        # --- identity
        ("POST", "/api/v1/auth/login"): PUBLIC,
        ("POST", "/api/v1/auth/refresh"): PUBLIC,
        ("POST", "/api/v1/auth/logout"): PUBLIC,  # holding the refresh token is the proof
        ("POST", "/api/v1/auth/register"): PUBLIC,  # refused unless open registration is on
        ("GET", "/api/v1/auth/me"): OWN_ACCOUNT,
        ("POST", "/api/v1/auth/password"): OWN_ACCOUNT,
        ("GET", "/api/v1/users"): Permission.MANAGE_USERS,
        ("POST", "/api/v1/users"): Permission.MANAGE_USERS,
        ("PATCH", "/api/v1/users/{username}"): Permission.MANAGE_USERS,
        ("POST", "/api/v1/api-keys"): OWN_ACCOUNT,  # others' keys and roles: checked by the handler
        ("GET", "/api/v1/api-keys"): OWN_ACCOUNT,
        ("DELETE", "/api/v1/api-keys/{key_id}"): OWN_ACCOUNT,
        # --- market data
        ("POST", "/api/v1/market-data/sync"): Permission.RUN_SYNCS,
        ("POST", "/api/v1/market-data/sync/background"): Permission.RUN_SYNCS,
        ("POST", "/api/v1/market-data/sync/bulk"): Permission.RUN_SYNCS,
        ("GET", "/api/v1/market-data/ohlcv/{exchange}/{symbol}"): READ,
        ("GET", "/api/v1/market-data/symbols"): READ,
        ("POST", "/api/v1/market-data/symbols"): Permission.MANAGE_SYMBOLS,
        ("GET", "/api/v1/market-data/symbols/search"): READ,
        ("GET", "/api/v1/market-data/symbols/{exchange}/{symbol}/sessions"): READ,
        ("DELETE", "/api/v1/market-data/symbols/{exchange}/{symbol}"): Permission.MANAGE_SYMBOLS,
        ("GET", "/api/v1/market-data/sync-status"): READ,
        ("GET", "/api/v1/market-data/sync-status/{exchange}/{symbol}/{interval}"): READ,
        # --- quotes
        ("POST", "/api/v1/quotes/start"): Permission.MANAGE_QUOTES,
        ("POST", "/api/v1/quotes/stop"): Permission.MANAGE_QUOTES,
        ("POST", "/api/v1/quotes/subscribe"): Permission.MANAGE_QUOTES,
        ("POST", "/api/v1/quotes/unsubscribe"): Permission.MANAGE_QUOTES,
        ("PUT", "/api/v1/quotes/intervals"): Permission.MANAGE_QUOTES,
        ("GET", "/api/v1/quotes/latest/{exchange}/{symbol}"): READ,
        ("GET", "/api/v1/quotes/all"): READ,
        ("GET", "/api/v1/quotes/current-bar/{exchange}/{symbol}"): READ,
        ("GET", "/api/v1/quotes/status"): READ,
        # Authenticated at the handshake (a header); in-band authentication comes with the WebSocket rework.
        ("WS", "/api/v1/ws/quotes"): READ,
        # --- indicators and feature sets
        ("GET", "/api/v1/indicators"): READ,
        ("GET", "/api/v1/indicators/{exchange}/{symbol}"): READ,
        ("GET", "/api/v1/indicators/{exchange}/{symbol}/latest"): READ,
        ("GET", "/api/v1/features/sets"): READ,
        ("GET", "/api/v1/features/{exchange}/{symbol}"): READ,
        ("GET", "/api/v1/features/{exchange}/{symbol}/latest"): READ,
        # --- data quality: checks and reconciliations write like a sync does; a flag's verdict is a trader's
        ("GET", "/api/v1/quality"): READ,
        ("GET", "/api/v1/quality/{exchange}/{symbol}"): READ,
        ("POST", "/api/v1/quality/{exchange}/{symbol}/check"): Permission.RUN_SYNCS,
        ("POST", "/api/v1/quality/{exchange}/{symbol}/reconcile"): Permission.RUN_SYNCS,
        ("POST", "/api/v1/quality/{exchange}/{symbol}/flags"): Permission.RUN_SYNCS,
        # --- webhooks
        ("GET", "/api/v1/webhooks/dead-letters"): Permission.READ_WEBHOOK_DELIVERIES,
        ("POST", "/api/v1/webhooks/dead-letters/{delivery_id}/redeliver"): Permission.REDELIVER_WEBHOOKS,
        ("POST", "/api/v1/webhooks/dead-letters/redeliver"): Permission.REDELIVER_WEBHOOKS,
    }
