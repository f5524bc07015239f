"""`web/test/fixtures/indicators.json` is the service's indicator catalog (`GET /api/v1/indicators`) and how
the service reads a few specs (normalised text and columns): the reference the web app's Vitest tests check
its own spec reading against. This test fails when the file is out of date; rewrite it with
`python -m tests.unit.web.test_indicator_fixture`."""

import json
from pathlib import Path
from typing import Any

from src.domain.errors import InvalidIndicator
from src.domain.indicators import parse_spec
from src.features.indicators.catalog import indicators

FIXTURE = Path(__file__).resolve().parents[3] / "web" / "test" / "fixtures" / "indicators.json"
EXAMPLES = (
    "sma:20", "ema:12", "bb:20:2", "bb:20:2.5", "bb:20:2.0", "bb:30", "rsi:14", "macd:12:26:9", "macd:5",
    "stoch:14:3:3", "stoch:5", "atr:14", "adx:14", "volume_sma:20", "vwap", "SMA:50",
    "sma:1", "sma:20.5", "bb:20:0.01", "macd:12:26:9:1", "foo:3", "rsi:x",
)


def reading(text: str) -> dict[str, Any]:
    try:
        (spec,) = parse_spec(text)
    except InvalidIndicator:
        return {"spec": text, "valid": False}
    return {"spec": text, "valid": True, "text": spec.text, "columns": list(spec.columns)}


def fixture() -> str:
    body = {"catalog": indicators(), "examples": [reading(text) for text in EXAMPLES]}
    return json.dumps(body, indent=1, sort_keys=True) + "\n"


def test_the_web_apps_indicator_fixture_is_the_services_catalog() -> None:
    assert FIXTURE.read_text() == fixture(), "rewrite it: python -m tests.unit.web.test_indicator_fixture"


if __name__ == "__main__":
    FIXTURE.write_text(fixture())
