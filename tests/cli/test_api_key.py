"""The API key: `--api-key` or PQ_API_KEY is sent as X-API-Key, and a refusal says how to pass one. The
service does not check keys yet, so a small recording server stands in for one that does."""

import json

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

pytestmark = pytest.mark.e2e
KEY = "pq_test_key"


def keyed_server(seen: list[str | None]) -> Starlette:
    async def sync_status(request: Request) -> JSONResponse:
        key = request.headers.get("x-api-key")
        seen.append(key)
        if key != KEY:
            problem = {"type": "about:blank", "title": "Unauthorized", "status": 401, "detail": "an API key is needed"}
            return JSONResponse(problem, status_code=401, media_type="application/problem+json")
        return JSONResponse([])

    return Starlette(routes=[Route("/api/v1/market-data/sync-status", sync_status)])


async def test_the_key_is_sent_from_the_option_or_the_environment(cli, serve_app):
    seen: list[str | None] = []
    url = serve_app(keyed_server(seen)).url
    assert (await cli("status", "--url", url, "--api-key", KEY)).exit_code == 0
    assert (await cli("status", "--url", url, env={"PQ_API_KEY": KEY})).exit_code == 0
    assert seen == [KEY, KEY]


async def test_a_refused_key_exits_2_saying_how_to_pass_one(cli, serve_app):
    url = serve_app(keyed_server([])).url
    result = await cli("status", "--url", url, "--api-key", "wrong", "--json")
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert report["status"] == 401 and "--api-key" in report["error"] and "PQ_API_KEY" in report["error"]
