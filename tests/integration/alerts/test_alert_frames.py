"""`alert` frames over real WebSockets: the service built by the root with authentication on (fakes for the
store and the source), served by uvicorn. A trigger of a rule with the websocket channel reaches every
socket of its owner, and no one else's."""

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from src.app.http import http_app
from src.domain.identity import Role
from src.domain.market_data import QuoteTick, Symbol
from src.features.identity import messages as im
from src.features.quotes.messages import StartQuotesCommand
from tests.fixtures.http_server import ServedApp
from tests.world import World

pytestmark = pytest.mark.integration

SECRET = "alert-frames-test-signing-key-0123456789"
PASSWORD = "a long secret phrase"
BTC = Symbol("BINANCE", "BTCUSDT")


class Served:
    def __init__(self, world: World, server: ServedApp) -> None:
        self.world, self.server = world, server
        self.ws_url = server.url.replace("http", "ws") + "/api/v1/ws/quotes"

    def token(self, username: str) -> str:
        response = httpx.post(self.server.url + "/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        token: str = response.json()["access_token"]
        return token


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    world = World(auth_jwt_secret=SECRET, admin_password=PASSWORD, rate_limit_capacity=100_000)
    server = ServedApp(http_app(world.root))
    try:
        admin = server.run(world.users.get_by_name("admin")).principal()
        for name in ("alice", "bob"):
            server.run(world.mediator.send(im.CreateUserCommand(admin, name, PASSWORD, Role.TRADER)))
        server.run(world.mediator.send(StartQuotesCommand(())))
        yield Served(world, server)
    finally:
        server.stop()


async def frames_until_pong(ws: ClientConnection) -> list[dict[str, Any]]:
    await ws.send('{"action": "ping"}')
    frames = []
    async with asyncio.timeout(5):
        while (frame := orjson.loads(await ws.recv()))["type"] != "pong":
            frames.append(frame)
    return frames


async def test_an_alert_frame_reaches_every_socket_of_its_owner_and_no_one_else(served):
    alice, bob = served.token("alice"), served.token("bob")
    headers = {"Authorization": f"Bearer {alice}"}
    async with httpx.AsyncClient(base_url=served.server.url, headers=headers) as http:
        created = await http.post("/api/v1/alerts", json={
            "symbol": "BINANCE:BTCUSDT", "condition": {"kind": "price_above", "level": 100},
            "channels": ["websocket"], "note": "BTC over 100"})
        assert created.status_code == 201, created.text
        rule_id = created.json()["id"]
    evaluator = served.world.exposed("alerts", "evaluator")
    served.server.run(evaluator.refresh())  # holds BTC upstream
    async with (websockets.connect(served.ws_url, subprotocols=["bearer", alice]) as first,  # type: ignore[list-item]
                websockets.connect(served.ws_url) as second,
                websockets.connect(served.ws_url, subprotocols=["bearer", bob]) as others):  # type: ignore[list-item]
        await second.send(orjson.dumps({"action": "auth", "token": alice}).decode())
        assert orjson.loads(await second.recv())["type"] == "authenticated"
        now = served.world.clock.now()
        served.server.run(served.world.feed.push(QuoteTick(BTC, now, 105.0, 1.0)))
        for socket in (first, second):
            async with asyncio.timeout(5):
                frame = orjson.loads(await socket.recv())
            assert frame["type"] == "alert" and frame["rule_id"] == rule_id
            assert frame["values"] == {"price": 105.0, "level": 100.0} and frame["note"] == "BTC over 100"
        assert [f for f in await frames_until_pong(others) if f["type"] == "alert"] == []


async def test_over_http_traders_reach_their_own_rules_admins_every_rule_viewers_none(served):
    admin = served.server.run(served.world.users.get_by_name("admin")).principal()
    served.server.run(served.world.mediator.send(im.CreateUserCommand(admin, "victor", PASSWORD, Role.VIEWER)))
    tokens = {name: served.token(name) for name in ("alice", "bob", "admin", "victor")}

    def as_(name: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=served.server.url, headers={"Authorization": f"Bearer {tokens[name]}"})

    async with as_("alice") as alice, as_("bob") as bob, as_("admin") as root, as_("victor") as victor:
        rule = (await alice.post("/api/v1/alerts", json={
            "symbol": "BINANCE:BTCUSDT", "condition": {"kind": "price_below", "level": 1}})).json()
        path = f"/api/v1/alerts/{rule['id']}"
        assert (await bob.get(path)).status_code == 404
        assert (await bob.patch(path, json={"note": "mine now"})).status_code == 404
        assert rule["id"] not in [r["id"] for r in (await bob.get("/api/v1/alerts")).json()]
        assert (await root.get(path)).json()["owner"] == rule["owner"]
        assert rule["id"] in [r["id"] for r in (await root.get("/api/v1/alerts")).json()]
        assert (await root.post(f"{path}/disable")).json()["status"] == "disabled"
        assert (await victor.get("/api/v1/alerts")).status_code == 403
        assert (await alice.delete(path)).status_code == 204
