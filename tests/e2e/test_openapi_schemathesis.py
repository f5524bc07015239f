"""A bounded schemathesis run against the served OpenAPI document: every operation, a few generated requests
each (valid and invalid), as an admin. No 5xx, and every answer conforms to the document: its status is
documented, its content type too, its body matches the documented schema.

The service is built by the root with authentication on and fakes for the store and the source (a known
symbol with history), served over real HTTP."""

from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from src.app.http import http_app
from src.domain.market_data import Interval, SeriesKey, Symbol
from src.features.market_data.messages import SyncSymbolCommand
from tests.fixtures.http_server import ServedApp
from tests.world import World

pytestmark = pytest.mark.e2e
SECRET = "schemathesis-signing-key-0123456789abcd"
PASSWORD = "schemathesis operator passphrase"
BTC = Symbol("BINANCE", "BTCUSDT")
EXAMPLES = 5  # per operation and mode: bounded, the run is part of `make test`
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]


@pytest.fixture(scope="module")
def served() -> Any:
    world = World(auth_jwt_secret=SECRET, admin_password=PASSWORD, rate_limit_capacity=1_000_000)
    world.provider.add_history(BTC, Interval.M1, 1_700_000_000, 30)
    server = ServedApp(http_app(world.root))
    try:
        server.run(world.mediator.send(SyncSymbolCommand(SeriesKey(BTC, Interval.M1, "tradingview"), 30)))
        login = httpx.post(server.url + "/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
        yield server, {"Authorization": f"Bearer {login.json()['access_token']}"}
    finally:
        server.stop()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_as_documented_and_never_5xx(served, mode):
    server, admin = served
    schema = schemathesis.openapi.from_url(server.url + "/api/v1/openapi.json")  # the document as served
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 35
    for operation in operations:
        try:
            _run(operation, mode, admin)
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE  # nothing invalid to send (e.g. no parameter at all)
        except (AssertionError, BaseExceptionGroup) as failure:  # one report of every operation that failed
            failures[operation.label] = str(failure)[:3000]
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())


def _run(operation: Any, mode: GenerationMode, admin: dict[str, str]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        case.call_and_validate(headers=admin, checks=CHECKS)

    check()
