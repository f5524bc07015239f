"""ROLES as the root honours it: `scheduler` runs the jobs (with SCHEDULER_ENABLED), `api` mounts the
HTTP API, a process without `api` serves only the operations routes; `collector` contends for the collector
lease when Redis is configured (tests/e2e/test_scale_out.py)."""

import httpx
import pytest

from src.app.http import http_app
from src.common.settings import SettingsError, load_settings
from tests.world import World

OPERATIONS = ("/health", "/metrics", "/api/v1/jobs")
API = ("/api/v1/market-data/sync-status", "/api/v1/market-data/symbols", "/api/v1/quotes/status",
       "/api/v1/webhooks/dead-letters", "/")  # "/": the web app, which calls the API


async def answered(world: World, paths: tuple[str, ...]) -> dict[str, bool]:
    """Whether each GET reaches a route (anything but the edge's "no route matches" 404)."""
    transport = httpx.ASGITransport(app=http_app(world.root))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        responses = {path: await client.get(path) for path in paths}
    return {path: "no route matches" not in r.text for path, r in responses.items()}


def components(world: World) -> set[str]:
    return {c.name for c in world.root.lifecycle.components}


@pytest.mark.parametrize(("roles", "enabled", "scheduled"), [
    ("all", True, True), ("api,collector,scheduler", True, True), ("scheduler", True, True),
    ("api", True, False), ("collector", True, False), ("api,collector", True, False),
    ("all", False, False), ("scheduler", False, False),
])
def test_the_scheduler_runs_only_with_its_role_and_when_enabled(roles, enabled, scheduled):
    assert ("scheduler" in components(World(roles=roles, scheduler_enabled=enabled))) is scheduled


def test_every_role_is_the_default_so_one_process_still_does_everything(monkeypatch):
    monkeypatch.delenv("ROLES", raising=False)
    assert load_settings().roles == {"api", "collector", "scheduler"}


def test_roles_come_from_the_environment_as_a_comma_separated_list(monkeypatch):
    monkeypatch.setenv("ROLES", " api , scheduler ")
    assert load_settings().roles == {"api", "scheduler"}


@pytest.mark.parametrize("value", ["", "api,cook", "API", "all,api", ","])
def test_an_invalid_roles_value_stops_the_start_naming_roles(monkeypatch, value):
    monkeypatch.setenv("ROLES", value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith("invalid setting ROLES:")


@pytest.mark.parametrize("roles", ["api", "all"])
async def test_a_process_with_the_api_role_serves_every_slice(roles):
    assert all((await answered(World(roles=roles), OPERATIONS + API)).values())


@pytest.mark.parametrize("roles", ["scheduler", "collector", "collector,scheduler"])
async def test_a_process_without_the_api_role_serves_only_operations(roles):
    reached = await answered(World(roles=roles), OPERATIONS + API)
    assert reached == {path: path in OPERATIONS for path in OPERATIONS + API}
