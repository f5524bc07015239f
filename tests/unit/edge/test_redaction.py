import json

import pytest
import structlog

from src.common.redaction import redact_text, redact_url
from src.infrastructure.observability.logging import configure_logging


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        ("https://bot:hunter2@hooks.example/in", "https://***@hooks.example/in"),
        ("https://TOKEN123@hooks.example:8443/in", "https://***@hooks.example:8443/in"),
        ("https://hooks.example/in?token=abc&v=2", "https://hooks.example/in?token=***&v=***"),
        ("https://u:p@ss@hooks.example/in?sig=x#frag", "https://***@hooks.example/in?sig=***"),
        ("https://hooks.example/in?flag", "https://hooks.example/in?flag"),
        ("https://hooks.example/in", "https://hooks.example/in"),
        ("redis://:pw@cache:6379/0", "redis://***@cache:6379/0"),
    ],
)
def test_a_url_keeps_where_it_points_and_loses_its_credentials(url, redacted):
    assert redact_url(url) == redacted


def test_every_url_in_free_text_is_redacted():
    text = "POST https://a:b@x.example/h?token=t failed, then http://y.example/?key=k timed out"
    expected = "POST https://***@x.example/h?token=*** failed, then http://y.example/?key=*** timed out"
    assert redact_text(text) == expected
    assert redact_text("no url here") == "no url here"


def test_log_lines_never_carry_url_credentials_whoever_logs_them(capsys):
    configure_logging(level="INFO", fmt="json")
    try:
        structlog.get_logger("any.component").warning(
            "delivery failed", url="https://bot:hunter2@hooks.example/in?token=abc",
            error="ClientError: https://bot:hunter2@hooks.example/in?token=abc refused",
        )
        try:
            raise RuntimeError("cannot reach https://bot:hunter2@hooks.example/in?token=abc")
        except RuntimeError:
            structlog.get_logger("any.component").exception("crashed")
        out = capsys.readouterr().out
    finally:
        structlog.reset_defaults()
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert len(lines) == 2
    assert "hunter2" not in out and "token=abc" not in out
    assert lines[0]["url"] == "https://***@hooks.example/in?token=***"
