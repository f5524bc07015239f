"""Every route, as every kind of caller, over real HTTP, against the one access map (`src/app/access.py`):
anonymous, viewer, trader and admin (access tokens), an API key, an expired token, a tampered token and a
revoked key. Public routes answer 2xx to all; otherwise no or bad credentials → 401, a role without the
permission → 403, else 2xx. Each route has an example request here that succeeds when allowed: a route
without one (or without an access-map entry) fails the test.

The service is built by the root with fakes for the store and the source (fast), authentication on."""

import asyncio
import base64
import itertools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import websockets

from src.app.access import route_access
from src.app.http import _route_keys, http_app
from src.app.slices import SLICES
from src.common.ports import DeadLetter
from src.domain.identity import Permission, Role, allows
from src.domain.market_data import Instrument, Interval, Symbol
from src.features.identity import messages as m
from src.features.market_data.messages import SyncSymbolCommand, TrackSymbolCommand
from src.features.quotes.messages import StartQuotesCommand, SubscribeQuotesCommand
from src.infrastructure.auth.jwt_tokens import JwtAccessTokens
from src.infrastructure.http.authorization import PUBLIC
from tests.fixtures.http_server import ServedApp
from tests.world import World

pytestmark = pytest.mark.e2e

SECRET = "access-map-test-signing-key-0123456789"
PASSWORD = "a long secret phrase"
BTC = Symbol("BINANCE", "BTCUSDT")
TOKEN_KINDS = {"viewer": Role.VIEWER, "trader": Role.TRADER, "admin": Role.ADMIN}
KINDS = ("anonymous", "viewer", "trader", "admin", "api_key", "expired_token", "tampered_token", "revoked_key")
BAD_CREDENTIALS = {"anonymous", "expired_token", "tampered_token", "revoked_key"}
API_KEY_ROLE = Role.TRADER  # the API key caller: a trader's key


class Service:
    """The served app, its world of fakes, and a user (with credentials) per kind of caller."""

    def __init__(self, world: World, server: ServedApp) -> None:
        self.world = world
        self.server = server
        self.headers: dict[str, dict[str, str]] = {"anonymous": {}}
        self.users: dict[str, str] = {}  # kind → username
        self.names = itertools.count()

    def run(self, coro: Awaitable[Any]) -> Any:
        return self.server.run(coro)  # type: ignore[arg-type]

    def send(self, message: Any) -> Any:
        return self.run(self.world.mediator.send(message))

    def admin(self) -> Any:
        return self.run(self.world.users.get_by_name("admin")).principal()

    def user_of(self, kind: str) -> Any:
        return self.run(self.world.users.get_by_name(self.users.get(kind, "admin"))).principal()

    def fresh_name(self) -> str:
        return f"user{next(self.names)}"


def login(service: Service, username: str, password: str = PASSWORD) -> dict[str, Any]:
    response = httpx.post(service.server.url + "/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


def tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps({**claims, "role": "admin"}).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


@pytest.fixture(scope="module")
def service() -> Any:
    world = World(auth_jwt_secret=SECRET, admin_password=PASSWORD, auth_open_registration=True,
                  rate_limit_capacity=100_000, metrics_public=False, health_public=True)
    world.provider.add_history(BTC, Interval.M1, 1_700_000_000, 50)
    server = ServedApp(http_app(world.root))
    try:
        service = Service(world, server)
        _credentials(service)
        yield service
    finally:
        server.stop()


def _credentials(service: Service) -> None:
    admin = service.admin()
    for kind, role in TOKEN_KINDS.items():
        if kind != "admin":
            service.send(m.CreateUserCommand(admin, kind + "-user", PASSWORD, role))
        service.users[kind] = "admin" if kind == "admin" else kind + "-user"
        service.headers[kind] = {"Authorization": f"Bearer {login(service, service.users[kind])['access_token']}"}
    trader = service.user_of("trader")
    service.users["api_key"] = service.users["trader"]
    service.headers["api_key"] = {"X-API-Key": service.send(m.CreateApiKeyCommand(trader, "bot")).plaintext}
    revoked = service.send(m.CreateApiKeyCommand(admin, "revoked bot"))
    service.send(m.RevokeApiKeyCommand(admin, revoked.key.key_id))
    service.headers["revoked_key"] = {"Authorization": f"Bearer {revoked.plaintext}"}
    now = service.world.clock.now()
    expired = JwtAccessTokens(SECRET).issue(admin, now - 7200).token
    service.headers["expired_token"] = {"Authorization": f"Bearer {expired}"}
    viewer_token = service.headers["viewer"]["Authorization"].removeprefix("Bearer ")
    service.headers["tampered_token"] = {"Authorization": f"Bearer {tampered(viewer_token)}"}
    service.send(SyncSymbolCommand(_series(), 50))


def _series() -> Any:
    from src.domain.market_data import SeriesKey

    return SeriesKey(BTC, Interval.M1, "tradingview")


# --- one example request per route, succeeding when the caller is allowed --------------------------------


@dataclass(frozen=True)
class Call:
    path: str
    body: Any = None
    params: dict[str, str] = field(default_factory=dict)


Example = Callable[[Service, str], Call]  # (service, kind of caller) → the request to make


def _tracked(service: Service, kind: str) -> Call:
    service.send(TrackSymbolCommand(Instrument("tradingview", BTC), (Interval.M1,)))
    return Call("/api/v1/market-data/symbols/BINANCE/BTCUSDT")


def _dead_letter(service: Service, kind: str) -> Call:
    delivery_id = f"{next(service.names):032x}"
    letter = DeadLetter(delivery_id, "http://127.0.0.1:9/hook", "bar.synced", b"{}", 5, "HTTP 500", None, 1.0)
    service.run(service.world.dead_letters.add(letter))
    return Call(f"/api/v1/webhooks/dead-letters/{delivery_id}/redeliver")


def _own_key(service: Service, kind: str) -> Call:
    owner = service.users.get(kind, "admin")
    created = service.send(m.CreateApiKeyCommand(service.admin(), "to revoke", owner=owner))
    return Call(f"/api/v1/api-keys/{created.key.key_id}")


def _refresh_token(service: Service, kind: str) -> Call:
    return Call("", {"refresh_token": login(service, "admin")["refresh_token"]})


def _a_user(service: Service, kind: str) -> Call:
    name = service.fresh_name()
    service.send(m.CreateUserCommand(service.admin(), name, PASSWORD, Role.VIEWER))
    return Call(f"/api/v1/users/{name}", {"role": "trader"})


def _quotes_running(path: str, body: Any = None) -> Example:
    def example(service: Service, kind: str) -> Call:
        service.send(StartQuotesCommand(()))
        return Call(path, body)
    return example


def _with_a_quote(path: str) -> Example:
    def example(service: Service, kind: str) -> Call:
        from src.domain.market_data import QuoteTick

        service.send(StartQuotesCommand(()))
        service.send(SubscribeQuotesCommand((Instrument("tradingview", BTC),), (Interval.M1,)))
        now = service.world.clock.now()
        service.run(service.world.feed.push(QuoteTick(BTC, now, 100.0, 1.0)))
        return Call(path, params={"interval": "1m"} if "current-bar" in path else {})
    return example


def _owing_reconciliation(service: Service, kind: str) -> Call:
    monitor = service.world.exposed("quality", "monitor")
    service.run(monitor.save_live(_series(), lambda quality: quality.live_started(1_700_000_000 + 40 * 60)))
    return Call("/api/v1/quality/BINANCE/BTCUSDT/reconcile", params={"interval": "1m"})


def _an_open_flag(service: Service, kind: str) -> Call:
    from dataclasses import replace

    from src.domain.quality import Anomaly, AnomalyFlag, Severity
    from src.domain.quality.series import SeriesQuality

    bar_time = 1_700_000_000 + 10 * 60
    flag = AnomalyFlag.raised(Anomaly(check="price_spikes", severity=Severity.ERROR, bar_time=bar_time), bar_time)
    records = service.world.quality.records
    records[_series()] = replace(records.get(_series()) or SeriesQuality(), flags=(flag,))
    return Call("/api/v1/quality/BINANCE/BTCUSDT/flags", {"check": "price_spikes", "bar_time": bar_time,
                                                          "verdict": "confirmed"}, {"interval": "1m"})


SERIES_BODY = {"exchange": "BINANCE", "symbol": "BTCUSDT", "interval": "1m", "n_bars": 10}
EXAMPLES: dict[tuple[str, str], Example] = {
    ("GET", "/health"): lambda s, k: Call("/health"),
    ("GET", "/metrics"): lambda s, k: Call("/metrics"),
    ("GET", "/api/v1/jobs"): lambda s, k: Call("/api/v1/jobs"),
    ("POST", "/api/v1/jobs/{name}/run"): lambda s, k: Call("/api/v1/jobs/sync_all_symbols/run"),
    ("POST", "/api/v1/auth/login"): lambda s, k: Call("/api/v1/auth/login",
                                                      {"username": "admin", "password": PASSWORD}),
    ("POST", "/api/v1/auth/refresh"): lambda s, k: Call("/api/v1/auth/refresh", _refresh_token(s, k).body),
    ("POST", "/api/v1/auth/logout"): lambda s, k: Call("/api/v1/auth/logout", _refresh_token(s, k).body),
    ("POST", "/api/v1/auth/register"): lambda s, k: Call("/api/v1/auth/register",
                                                         {"username": s.fresh_name(), "password": PASSWORD}),
    ("GET", "/api/v1/auth/me"): lambda s, k: Call("/api/v1/auth/me"),
    ("POST", "/api/v1/auth/password"): lambda s, k: Call("/api/v1/auth/password", {
        "current_password": PASSWORD, "new_password": PASSWORD}),
    ("GET", "/api/v1/users"): lambda s, k: Call("/api/v1/users"),
    ("POST", "/api/v1/users"): lambda s, k: Call("/api/v1/users", {"username": s.fresh_name(), "password": PASSWORD}),
    ("PATCH", "/api/v1/users/{username}"): _a_user,
    ("POST", "/api/v1/api-keys"): lambda s, k: Call("/api/v1/api-keys", {"name": "bot", "role": "viewer"}),
    ("GET", "/api/v1/api-keys"): lambda s, k: Call("/api/v1/api-keys"),
    ("DELETE", "/api/v1/api-keys/{key_id}"): _own_key,
    ("POST", "/api/v1/market-data/sync"): lambda s, k: Call("/api/v1/market-data/sync", SERIES_BODY),
    ("POST", "/api/v1/market-data/sync/background"): lambda s, k: Call("/api/v1/market-data/sync/background",
                                                                      SERIES_BODY),
    ("POST", "/api/v1/market-data/sync/bulk"): lambda s, k: Call("/api/v1/market-data/sync/bulk",
                                                                {"items": [SERIES_BODY]}),
    ("GET", "/api/v1/market-data/ohlcv/{exchange}/{symbol}"): lambda s, k: Call(
        "/api/v1/market-data/ohlcv/BINANCE/BTCUSDT", params={"interval": "1m", "limit": "5"}),
    ("GET", "/api/v1/market-data/symbols"): lambda s, k: Call("/api/v1/market-data/symbols"),
    ("POST", "/api/v1/market-data/symbols"): lambda s, k: Call("/api/v1/market-data/symbols", {
        "exchange": "BINANCE", "symbol": "BTCUSDT", "intervals": ["1m"]}),
    ("GET", "/api/v1/market-data/symbols/search"): lambda s, k: Call("/api/v1/market-data/symbols/search",
                                                                    params={"q": "BTC"}),
    ("DELETE", "/api/v1/market-data/symbols/{exchange}/{symbol}"): _tracked,
    ("GET", "/api/v1/market-data/symbols/{exchange}/{symbol}/sessions"): lambda s, k: Call(
        "/api/v1/market-data/symbols/BINANCE/BTCUSDT/sessions"),
    ("GET", "/api/v1/market-data/sync-status"): lambda s, k: Call("/api/v1/market-data/sync-status"),
    ("GET", "/api/v1/market-data/sync-status/{exchange}/{symbol}/{interval}"): lambda s, k: Call(
        "/api/v1/market-data/sync-status/BINANCE/BTCUSDT/1m"),
    ("POST", "/api/v1/quotes/start"): lambda s, k: Call("/api/v1/quotes/start"),
    ("POST", "/api/v1/quotes/stop"): lambda s, k: Call("/api/v1/quotes/stop"),
    ("POST", "/api/v1/quotes/subscribe"): _quotes_running("/api/v1/quotes/subscribe",
                                                          {"symbols": ["BINANCE:BTCUSDT"]}),
    ("POST", "/api/v1/quotes/unsubscribe"): _quotes_running("/api/v1/quotes/unsubscribe",
                                                            {"symbols": ["BINANCE:BTCUSDT"]}),
    ("PUT", "/api/v1/quotes/intervals"): lambda s, k: Call("/api/v1/quotes/intervals", {"intervals": ["1m", "5m"]}),
    ("GET", "/api/v1/quotes/latest/{exchange}/{symbol}"): _with_a_quote("/api/v1/quotes/latest/BINANCE/BTCUSDT"),
    ("GET", "/api/v1/quotes/all"): lambda s, k: Call("/api/v1/quotes/all"),
    ("GET", "/api/v1/quotes/current-bar/{exchange}/{symbol}"): _with_a_quote(
        "/api/v1/quotes/current-bar/BINANCE/BTCUSDT"),
    ("GET", "/api/v1/quotes/status"): lambda s, k: Call("/api/v1/quotes/status"),
    ("WS", "/api/v1/ws/quotes"): lambda s, k: Call("/api/v1/ws/quotes"),
    ("GET", "/api/v1/webhooks/dead-letters"): lambda s, k: Call("/api/v1/webhooks/dead-letters"),
    ("POST", "/api/v1/webhooks/dead-letters/{delivery_id}/redeliver"): _dead_letter,
    ("POST", "/api/v1/webhooks/dead-letters/redeliver"): lambda s, k: Call("/api/v1/webhooks/dead-letters/redeliver"),
    ("GET", "/api/v1/indicators"): lambda s, k: Call("/api/v1/indicators"),
    ("GET", "/api/v1/indicators/{exchange}/{symbol}"): lambda s, k: Call(
        "/api/v1/indicators/BINANCE/BTCUSDT", params={"interval": "1m", "indicators": "sma:5"}),
    ("GET", "/api/v1/indicators/{exchange}/{symbol}/latest"): lambda s, k: Call(
        "/api/v1/indicators/BINANCE/BTCUSDT/latest", params={"interval": "1m"}),
    ("GET", "/api/v1/features/sets"): lambda s, k: Call("/api/v1/features/sets"),
    ("GET", "/api/v1/features/{exchange}/{symbol}"): lambda s, k: Call(
        "/api/v1/features/BINANCE/BTCUSDT", params={"interval": "1m"}),
    ("GET", "/api/v1/features/{exchange}/{symbol}/latest"): lambda s, k: Call(
        "/api/v1/features/BINANCE/BTCUSDT/latest", params={"interval": "1m"}),
    ("GET", "/api/v1/quality"): lambda s, k: Call("/api/v1/quality"),
    ("GET", "/api/v1/quality/{exchange}/{symbol}"): lambda s, k: Call(
        "/api/v1/quality/BINANCE/BTCUSDT", params={"interval": "1m", "limit": "5"}),
    ("POST", "/api/v1/quality/{exchange}/{symbol}/check"): lambda s, k: Call(
        "/api/v1/quality/BINANCE/BTCUSDT/check", params={"interval": "1m"}),
    ("POST", "/api/v1/quality/{exchange}/{symbol}/reconcile"): _owing_reconciliation,
    ("POST", "/api/v1/quality/{exchange}/{symbol}/flags"): _an_open_flag,
}
# Refusals a handler adds to the route's permission (the map allows the route; the rule is finer).
HANDLER_REFUSALS = {(("POST", "/api/v1/api-keys"), "api_key"): 403}  # API keys cannot create API keys

ROUTES = sorted({*_route_keys(r for s in SLICES for r in s.routers), ("GET", "/metrics")})


def expected_status(route: tuple[str, str], kind: str, access: Any) -> str | int:
    """"ok" (2xx), 401 or 403."""
    if (route, kind) in HANDLER_REFUSALS:
        return HANDLER_REFUSALS[(route, kind)]
    if access is PUBLIC:
        return "ok"
    if kind in BAD_CREDENTIALS:
        return 403 if route[0] == "WS" else 401  # a refused WebSocket handshake is a 403, whatever the reason
    role = API_KEY_ROLE if kind == "api_key" else TOKEN_KINDS[kind]
    assert isinstance(access, Permission)
    return "ok" if allows(role, access) else 403


def test_every_route_has_an_access_map_entry_and_an_example_here():
    access = route_access(World().root.settings)
    assert [r for r in ROUTES if r not in access] == [], "add the route to src/app/access.py"
    assert [r for r in ROUTES if r not in EXAMPLES] == [], "add an example request for the route to this test"
    assert sorted(access) == ROUTES, "the access map names a route that does not exist"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r[0]} {r[1]}")
def test_each_caller_gets_exactly_what_the_access_map_says(service, route, kind):
    access = route_access(service.world.root.settings)[route]
    expected = expected_status(route, kind, access)
    call = EXAMPLES[route](service, kind)
    if route[0] == "WS":
        status = asyncio.run(_handshake(service.server.url, call.path, service.headers[kind]))
    else:
        status = httpx.request(route[0], service.server.url + call.path, json=call.body, params=call.params,
                               headers=service.headers[kind], timeout=10).status_code
    if expected == "ok":
        assert 200 <= status < 300 or (route[0] == "WS" and status == 101), f"{route} as {kind}: {status}"
    else:
        assert status == expected, f"{route} as {kind}: {status}, expected {expected}"


async def _handshake(url: str, path: str, headers: dict[str, str]) -> int:
    try:
        async with websockets.connect(url.replace("http", "ws") + path, additional_headers=headers,
                                      open_timeout=5):
            return 101
    except websockets.InvalidStatus as refused:
        return refused.response.status_code


def test_problems_for_401_and_403_are_problem_json_saying_why(service):
    url = service.server.url + "/api/v1/users"
    missing = httpx.get(url)
    expired = httpx.get(url, headers=service.headers["expired_token"])
    forbidden = httpx.get(url, headers=service.headers["viewer"])
    for response in (missing, expired, forbidden):
        assert response.headers["content-type"] == "application/problem+json"
    assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
    assert "credentials required" in missing.json()["detail"]
    assert "expired" in expired.json()["detail"]
    assert forbidden.status_code == 403 and "manage users" in forbidden.json()["detail"]


def test_an_app_with_a_route_missing_from_the_access_map_is_not_built():
    from fastapi import APIRouter

    from src.infrastructure.http.authorization import RouteAccess, UnmappedRoutes

    router = APIRouter(prefix="/api/v1/new")

    @router.post("/thing")
    async def thing() -> None: ...

    access = RouteAccess(route_access(World().root.settings))
    with pytest.raises(UnmappedRoutes, match="POST /api/v1/new/thing"):
        access.require_all([*ROUTES, *_route_keys([router])])
