"""WebSocket authentication (issue 14 §4) over a real socket: the service built by the root with
authentication on (fakes for the store and the source), served by uvicorn. A client authenticates with a
header, with the `Sec-WebSocket-Protocol: bearer, <token>` subprotocols, or in its first message; without
credentials it must authenticate first, within `WS_AUTH_TIMEOUT_S`, else it is closed with 4401."""

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from src.app.http import http_app
from src.domain.identity import Role
from src.features.identity import messages as m
from src.features.quotes.messages import StartQuotesCommand
from src.features.quotes.ws import CLOSE_UNAUTHENTICATED
from src.infrastructure.auth.jwt_tokens import JwtAccessTokens
from tests.fixtures.http_server import ServedApp
from tests.world import World

pytestmark = pytest.mark.integration

SECRET = "ws-auth-test-signing-key-0123456789abcdef"
PASSWORD = "a long secret phrase"
AUTH_TIMEOUT_S = 0.5


class Served:
    def __init__(self, world: World, server: ServedApp) -> None:
        self.world, self.server = world, server
        self.ws_url = server.url.replace("http", "ws") + "/api/v1/ws/quotes"

    def token(self, username: str = "admin") -> str:
        response = httpx.post(self.server.url + "/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    def send(self, message: Any) -> Any:
        return self.server.run(self.world.mediator.send(message))


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    world = World(auth_jwt_secret=SECRET, admin_password=PASSWORD, ws_auth_timeout_s=AUTH_TIMEOUT_S,
                  rate_limit_capacity=100_000)
    server = ServedApp(http_app(world.root))
    try:
        served = Served(world, server)
        served.send(StartQuotesCommand(()))
        yield served
    finally:
        server.stop()


async def frame(ws: ClientConnection, within: float = 3.0) -> dict[str, Any]:
    async with asyncio.timeout(within):
        loaded: dict[str, Any] = orjson.loads(await ws.recv())
        return loaded


async def closed_with(ws: ClientConnection, within: float = 3.0) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(within):
            while True:
                await ws.recv()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def test_a_first_auth_message_authenticates_the_socket_which_then_subscribes(served):
    async with websockets.connect(served.ws_url) as ws:
        await ws.send(orjson.dumps({"action": "auth", "token": served.token()}).decode())
        assert await frame(ws) == {"type": "authenticated", "user": "admin", "role": "admin"}
        await ws.send(orjson.dumps({"action": "subscribe", "symbols": ["BINANCE:BTCUSDT"]}).decode())
        assert (await frame(ws))["type"] == "subscribed"


async def test_an_api_key_in_the_first_message_authenticates_with_the_key_s_role(served):
    admin = served.server.run(served.world.users.get_by_name("admin")).principal()
    key = served.send(m.CreateApiKeyCommand(admin, "ws bot", role=Role.VIEWER)).plaintext
    async with websockets.connect(served.ws_url) as ws:
        await ws.send(orjson.dumps({"action": "auth", "token": key}).decode())
        assert await frame(ws) == {"type": "authenticated", "user": "admin", "role": "viewer"}


async def test_the_bearer_subprotocol_carries_the_token_and_is_the_one_accepted(served):
    async with websockets.connect(served.ws_url, subprotocols=["bearer", served.token()]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "bearer"
        await ws.send('{"action": "ping"}')
        assert await frame(ws) == {"type": "pong"}


async def test_the_authorization_header_still_authenticates_the_handshake(served):
    headers = {"Authorization": f"Bearer {served.token()}"}
    async with websockets.connect(served.ws_url, additional_headers=headers) as ws:
        await ws.send('{"action": "ping"}')
        assert await frame(ws) == {"type": "pong"}


async def test_a_socket_that_never_authenticates_is_closed_with_4401_after_the_timeout(served):
    async with websockets.connect(served.ws_url) as ws:
        started = time.monotonic()
        code, reason = await closed_with(ws)
    assert code == CLOSE_UNAUTHENTICATED and "timed out" in reason
    assert AUTH_TIMEOUT_S * 0.8 <= time.monotonic() - started < AUTH_TIMEOUT_S + 2


async def test_another_message_before_authenticating_closes_the_socket_and_is_not_acted_on(served):
    async with websockets.connect(served.ws_url) as ws:
        await ws.send(orjson.dumps({"action": "subscribe", "symbols": ["BINANCE:ETHUSDT"]}).decode())
        code, reason = await closed_with(ws)
    assert code == CLOSE_UNAUTHENTICATED and "authenticate first" in reason
    assert all(s.ticker != "BINANCE:ETHUSDT" for s in served.world.feed.subscribed)


async def test_a_first_message_with_a_bad_token_closes_the_socket_saying_why(served):
    expired = JwtAccessTokens(SECRET).issue(
        served.server.run(served.world.users.get_by_name("admin")).principal(), served.world.clock.now() - 7200).token
    for token, why in ((expired, "expired"), ("not-a-token", "invalid credentials")):
        async with websockets.connect(served.ws_url) as ws:
            await ws.send(orjson.dumps({"action": "auth", "token": token}).decode())
            code, reason = await closed_with(ws)
        assert code == CLOSE_UNAUTHENTICATED and why in reason, reason


async def test_credentials_that_do_not_hold_in_the_handshake_refuse_it(served):
    for options in ({"subprotocols": ["bearer", "tampered.token.here"]},
                    {"additional_headers": {"Authorization": "Bearer tampered.token.here"}}):
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(served.ws_url, **options):  # type: ignore[arg-type]
                pass
        assert refused.value.response.status_code == 403


async def test_an_auth_message_after_authenticating_is_an_error_frame_and_the_socket_stays(served):
    async with websockets.connect(served.ws_url, subprotocols=["bearer", served.token()]) as ws:  # type: ignore[list-item]
        await ws.send(orjson.dumps({"action": "auth", "token": served.token()}).decode())
        error = await frame(ws)
        assert error["type"] == "error" and "already authenticated" in error["detail"]
        await ws.send('{"action": "ping"}')
        assert await frame(ws) == {"type": "pong"}
