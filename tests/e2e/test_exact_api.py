"""The API states exactly what it sends and takes exactly what it states: problem+json on every error
status of the OpenAPI document, response models everywhere, enums and patterns on inputs; strict inputs
(no boolean for a count, no unknown query parameter, an unknown series is a 404, a JSON syntax error is
reported as one)."""

from typing import Any

import httpx
import pytest

from src.app.http import http_app
from src.domain.market_data import Interval, SeriesKey, Symbol
from src.features.market_data.messages import SyncSymbolCommand
from tests.fixtures.http_server import ServedApp
from tests.world import World

pytestmark = pytest.mark.e2e
BTC = Symbol("BINANCE", "BTCUSDT")
OHLCV = "/api/v1/market-data/ohlcv/BINANCE/BTCUSDT"
SECRET = "exact-api-test-signing-key-0123456789"


@pytest.fixture(scope="module")
def client() -> Any:
    world = World(rate_limit_capacity=100_000)
    world.provider.add_history(BTC, Interval.M1, 1_700_000_000, 30)
    server = ServedApp(http_app(world.root))
    try:
        server.run(world.mediator.send(SyncSymbolCommand(SeriesKey(BTC, Interval.M1, "tradingview"), 30)))
        with httpx.Client(base_url=server.url, timeout=10) as client:
            yield client
    finally:
        server.stop()


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    app = http_app(World(auth_jwt_secret=SECRET).root)
    return app.openapi()


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


# --- strict inputs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_bars", [True, "5", 5.0])
def test_a_count_is_a_json_integer_not_a_boolean_string_or_float(client, n_bars):
    body = {"exchange": "BINANCE", "symbol": "BTCUSDT", "interval": "1m", "n_bars": n_bars}
    assert [e["field"] for e in problem(client.post("/api/v1/market-data/sync", json=body), 422)["errors"]] == [
        "n_bars"]


@pytest.mark.parametrize("path", [f"{OHLCV}?interval=1m&limt=2", "/api/v1/market-data/sync-status?exchnge=BINANCE",
                                  "/api/v1/quotes/status?verbose=1", "/health?x=1"])
def test_an_unknown_query_parameter_is_a_422_naming_it(client, path):
    body = problem(client.get(path), 422)
    unknown = path.split("?")[1].split("&")[-1].split("=")[0]
    assert [e["field"] for e in body["errors"]] == [unknown]
    assert "unknown query parameter" in body["errors"][0]["message"]


def test_documented_query_parameters_still_pass(client):
    assert client.get(OHLCV, params={"interval": "1m", "limit": 2, "order": "desc"}).status_code == 200
    assert client.get("/api/v1/market-data/sync-status", params={"exchange": "BINANCE"}).status_code == 200


@pytest.mark.parametrize("interval", ["60", "1D", "7m"])
def test_provider_interval_codes_are_refused(client, interval):
    assert problem(client.get(OHLCV, params={"interval": interval}), 422)["errors"][0]["field"] == "interval"


def test_an_unknown_series_is_a_404_and_a_known_one_with_no_bar_in_range_is_empty(client):
    assert problem(client.get("/api/v1/market-data/ohlcv/BINANCE/NOPE", params={"interval": "1m"}), 404)
    resampled = client.get(OHLCV, params={"interval": "1h"})  # not stored: built from the stored 1m bars
    assert resampled.status_code == 200 and resampled.headers["X-Resampled-From"] == "1m"
    assert problem(client.get(OHLCV, params={"interval": "1m", "resample_from": "1h"}), 422)  # coarser: no
    empty = client.get(OHLCV, params={"interval": "1m", "end": 1_600_000_000})
    assert empty.status_code == 200 and empty.json()["count"] == 0


@pytest.mark.parametrize("path", ["/api/v1/market-data/ohlcv/BIN ANCE/BTCUSDT",
                                  "/api/v1/quotes/latest/BINANCE/BTC%20USDT"])
def test_exchange_and_symbol_follow_their_pattern(client, path):
    assert problem(client.get(path), 422)


def test_a_json_syntax_error_is_reported_as_one(client):
    response = client.post("/api/v1/market-data/sync", content=b'{"exchange": "BINANCE",, }',
                           headers={"content-type": "application/json"})
    body = problem(response, 400)
    assert body["type"] == "urn:pocketquant:problem:malformed-json"
    assert "not valid JSON" in body["detail"] and "errors" not in body


# --- the document -----------------------------------------------------------------------------------------


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, ops in document["paths"].items() for method, op in ops.items()]


def test_every_error_status_of_every_operation_is_problem_json(document):
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if status[0] not in "45" or (path, status) == ("/health", "503"):
                continue
            assert response["content"] == {"application/problem+json": {
                "schema": {"$ref": "#/components/schemas/Problem"}}}, f"{method} {path} {status}"
        assert {"400", "413", "422", "429", "500", "503"} <= set(operation["responses"]), f"{method} {path}"
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_protected_operations_document_401_and_403_and_public_ones_do_not_need_credentials(document):
    for method, path, operation in operations(document):
        if operation["security"]:
            assert {"401", "403"} <= set(operation["responses"]), f"{method} {path}"
    assert document["paths"]["/health"]["get"]["security"] == []


def test_every_success_has_a_response_model(document):
    for method, path, operation in operations(document):
        success = {s: r for s, r in operation["responses"].items() if s.startswith("2")}
        assert success, f"{method} {path} documents no success"
        for status, response in success.items():
            if status == "204":
                continue
            schema = response["content"]["application/json"]["schema"]
            assert schema and schema.get("type") != "string", f"{method} {path} {status}: {schema}"


def test_quotes_routes_document_objects_not_strings(document):
    paths = document["paths"]
    for path in ("/api/v1/quotes/latest/{exchange}/{symbol}", "/api/v1/quotes/current-bar/{exchange}/{symbol}"):
        assert "$ref" in paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert paths["/api/v1/quotes/all"]["get"]["responses"]["200"]["content"]["application/json"]["schema"][
        "type"] == "array"


def test_intervals_are_an_enum_and_exchanges_and_symbols_have_patterns(document):
    ohlcv = document["paths"]["/api/v1/market-data/ohlcv/{exchange}/{symbol}"]["get"]
    parameters = {p["name"]: p["schema"] for p in ohlcv["parameters"]}
    assert parameters["interval"]["enum"] == [i.code for i in Interval]
    assert parameters["exchange"]["pattern"] and parameters["symbol"]["pattern"]
    sync = document["components"]["schemas"]["SyncRequest"]["properties"]
    assert sync["interval"]["enum"] == [i.code for i in Interval]
    assert sync["exchange"]["pattern"] and sync["symbol"]["pattern"]
