"""Authentication as an operator and a bot meet it, over real HTTP with the real adapters (embedded store,
Argon2, JWT): the safe defaults, the first admin, login, an API key for a bot, refresh rotation, logout;
and no password, token or key in any log line."""

import json
import subprocess
import sys

import httpx
import pytest

from src.app.http import create_app
from src.app.root import bootstrap
from src.common.settings import Settings, SettingsError
from tests.e2e.test_entry_points import _env

pytestmark = pytest.mark.e2e
SECRET = "e2e-signing-key-0123456789abcdef0123"


# --- safe defaults -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("values", "named"), [
    ({"api_host": "0.0.0.0"}, "API_HOST=0.0.0.0"),
    ({"api_host": "192.168.1.20"}, "API_HOST=192.168.1.20"),
    ({"environment": "production"}, "ENVIRONMENT=production"),
])
def test_without_a_signing_key_it_refuses_to_start_where_others_reach_it(values, named):
    with pytest.raises(SettingsError) as refused:
        bootstrap(Settings(_env_file=None, **values))
    assert named in str(refused.value) and "AUTH_JWT_SECRET" in str(refused.value)
    bootstrap(Settings(_env_file=None, auth_jwt_secret=SECRET, **values))  # with one, it starts


def test_the_entry_point_refuses_with_one_line_and_no_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "src.main"], env=_env(tmp_path, API_HOST="0.0.0.0"),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("refusing to start without authentication with API_HOST=0.0.0.0")


def test_running_open_on_loopback_in_development_says_so_at_start(serve_app, captured_logs):
    server = serve_app(create_app(Settings(_env_file=None, scheduler_enabled=False)))
    assert httpx.post(server.url + "/api/v1/quotes/stop").status_code == 200  # open: anyone may
    started = next(e for e in captured_logs.events if e.get("event") == "pocketquant started")
    assert started["authentication"] == "off"
    assert any(str(e.get("event", "")).startswith("authentication is OFF") for e in captured_logs.events)


# --- the operator's and the bot's path ------------------------------------------------------------------


@pytest.fixture
def served(serve_app, capsys, captured_logs):
    settings = Settings(_env_file=None, auth_jwt_secret=SECRET, scheduler_enabled=False)
    server = serve_app(create_app(settings))
    shown = capsys.readouterr().err  # the operator's console: the one-time password, once
    password = shown.split("password: ")[1].split()[0]
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client, password, captured_logs, capsys


def test_operator_logs_in_makes_a_key_for_a_bot_the_bot_uses_it_until_it_is_revoked(served):
    client, password, logs, capsys = served
    login = client.post("/api/v1/auth/login", json={"username": "admin", "password": password})
    assert login.status_code == 200
    tokens = login.json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 3600
    as_admin = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/api/v1/auth/me", headers=as_admin).json()["role"] == "admin"

    created = client.post("/api/v1/api-keys", json={"name": "trading bot", "role": "trader"}, headers=as_admin)
    assert created.status_code == 201
    key = created.json()["key"]
    as_bot = {"X-API-Key": key}
    assert client.get("/api/v1/market-data/sync-status", headers=as_bot).status_code == 200
    assert client.get("/api/v1/market-data/sync-status", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert client.post("/api/v1/quotes/stop", headers=as_bot).status_code == 403  # a trader key: no quotes session
    listed = client.get("/api/v1/api-keys", headers=as_admin).json()
    assert "key" not in listed[0] and listed[0]["last_used_at"] is not None

    assert client.delete(f"/api/v1/api-keys/{created.json()['id']}", headers=as_admin).status_code == 200
    refused = client.get("/api/v1/market-data/sync-status", headers=as_bot)
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    _assert_never_logged(logs, capsys, password, tokens["access_token"], tokens["refresh_token"], key)


def test_refresh_rotates_and_a_replayed_refresh_token_ends_the_login(served):
    client, password, logs, _ = served
    first = client.post("/api/v1/auth/login", json={"username": "admin", "password": password}).json()
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200 and second.json()["refresh_token"] != first["refresh_token"]
    replay = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401 and "used already" in replay.json()["detail"]
    after = client.post("/api/v1/auth/refresh", json={"refresh_token": second.json()["refresh_token"]})
    assert after.status_code == 401  # the whole family went with the replay
    reused = [e for e in logs.events if e.get("event") == "refresh_token_reused"]
    assert reused and "refresh_token" not in reused[0]


def test_logout_ends_the_login(served):
    client, password, _, _ = served
    tokens = client.post("/api/v1/auth/login", json={"username": "admin", "password": password}).json()
    assert client.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}).status_code == 204
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401


def test_changing_the_password_ends_the_other_logins_and_keeps_the_one_used(served):
    client, password, _, _ = served
    credentials = {"username": "admin", "password": password}
    a, b = (client.post("/api/v1/auth/login", json=credentials).json() for _ in range(2))
    changed = client.post("/api/v1/auth/password", headers={"Authorization": f"Bearer {a['access_token']}"},
                          json={"current_password": password, "new_password": "a brand new passphrase"})
    assert changed.status_code == 204, changed.text
    other = client.post("/api/v1/auth/refresh", json={"refresh_token": b["refresh_token"]})
    assert other.status_code == 401 and "revoked" in other.json()["detail"]
    this = client.post("/api/v1/auth/refresh", json={"refresh_token": a["refresh_token"]})
    assert this.status_code == 200, this.text
    as_a = {"Authorization": f"Bearer {this.json()['access_token']}"}
    assert client.get("/api/v1/auth/me", headers=as_a).status_code == 200


def test_changing_the_password_with_an_api_key_ends_every_login(served):
    client, password, _, _ = served
    tokens = client.post("/api/v1/auth/login", json={"username": "admin", "password": password}).json()
    as_admin = {"Authorization": f"Bearer {tokens['access_token']}"}
    key = client.post("/api/v1/api-keys", json={"name": "script", "role": "admin"}, headers=as_admin).json()["key"]
    changed = client.post("/api/v1/auth/password", headers={"X-API-Key": key},
                          json={"current_password": password, "new_password": "a brand new passphrase"})
    assert changed.status_code == 204, changed.text
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401


def test_a_wrong_password_is_401_and_rate_limited_per_address(serve_app, capsys):
    settings = Settings(_env_file=None, auth_jwt_secret=SECRET, admin_password="correct horse battery",
                        scheduler_enabled=False, rate_limit_capacity=3, rate_limit_refill_per_s=0.01)
    server = serve_app(create_app(settings))
    with httpx.Client(base_url=server.url, timeout=30) as client:
        statuses = [client.post("/api/v1/auth/login", json={"username": "admin", "password": f"guess number {i}"})
                    .status_code for i in range(5)]
    assert statuses == [401, 401, 401, 429, 429]


def test_openapi_names_the_security_schemes_and_which_routes_need_them(served):
    client, *_ = served
    document = client.get("/api/v1/openapi.json").json()
    assert set(document["components"]["securitySchemes"]) == {"bearerAuth", "apiKeyAuth"}
    assert document["paths"]["/api/v1/auth/login"]["post"]["security"] == []
    users = document["paths"]["/api/v1/users"]["get"]
    assert users["security"] == [{"bearerAuth": []}, {"apiKeyAuth": []}] and "manage users" in users["description"]


def _assert_never_logged(logs, capsys, *secrets: str) -> None:
    printed = capsys.readouterr()
    text = json.dumps(logs.events, default=str) + printed.out + printed.err
    for secret in secrets:
        assert secret not in text


def test_rate_limits_are_per_principal_when_authenticated(serve_app, capsys):
    settings = Settings(_env_file=None, auth_jwt_secret=SECRET, admin_password="correct horse battery",
                        scheduler_enabled=False, rate_limit_capacity=4, rate_limit_refill_per_s=0.01)
    server = serve_app(create_app(settings))
    with httpx.Client(base_url=server.url, timeout=30) as client:
        token = client.post("/api/v1/auth/login", json={"username": "admin", "password": "correct horse battery"})
        as_admin = {"Authorization": f"Bearer {token.json()['access_token']}"}
        key = client.post("/api/v1/api-keys", json={"name": "bot"}, headers=as_admin).json()["key"]
        as_key = {"X-API-Key": key}
        admin_statuses = [client.get("/api/v1/auth/me", headers=as_admin).status_code for _ in range(4)]
        key_statuses = [client.get("/api/v1/auth/me", headers=as_key).status_code for _ in range(5)]
        anonymous = client.get("/health")  # exempt anyway; the address's own bucket was spent only by the login
        assert client.post("/api/v1/auth/login", json={"username": "admin", "password": "x" * 12}).status_code == 401
    # The login drew from the address's bucket; the admin's own bucket gave 1 to creating the key, so 3 of these
    # 4 pass; the key has a bucket of its own.
    assert admin_statuses == [200, 200, 200, 429]
    assert key_statuses == [200, 200, 200, 200, 429]
    assert anonymous.status_code == 200
