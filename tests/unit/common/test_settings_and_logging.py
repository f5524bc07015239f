import json
import logging

import pytest
import structlog

from src.common.correlation import correlation_scope
from src.common.settings import SettingsError, load_settings
from src.infrastructure.observability.logging import configure_logging


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("API_PORT", "9123")
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    settings = load_settings()
    assert settings.api_port == 9123
    assert settings.log_level == "DEBUG"
    assert settings.effective_log_format == "json"


def test_settings_come_from_a_dotenv_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("API_PORT=9555\nLOG_FORMAT=json\n")
    settings = load_settings()
    assert settings.api_port == 9555 and settings.effective_log_format == "json"


@pytest.mark.parametrize(
    ("variable", "value"),
    [("API_PORT", "not-a-port"), ("API_PORT", "70000"), ("LOG_FORMAT", "xml"), ("ENVIRONMENT", "staging")],
)
def test_an_invalid_value_stops_with_one_line_naming_the_variable(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert variable in message and "\n" not in message


def test_secrets_never_appear_in_reprs(monkeypatch):
    monkeypatch.setenv("TRADINGVIEW_PASSWORD", "hunter2-secret")
    monkeypatch.setenv("MONGODB_URL", "mongodb://user:pw-secret@db:27017")
    monkeypatch.setenv("REDIS_URL", "redis://:redis-secret@cache:6379/0")
    settings = load_settings()
    text = repr(settings) + str(settings) + str(settings.model_dump())
    for secret in ("hunter2-secret", "pw-secret", "redis-secret"):
        assert secret not in text
    assert settings.tradingview_password.get_secret_value() == "hunter2-secret"


def test_json_logs_carry_correlation_id_logger_level_and_iso_timestamp(capsys):
    configure_logging(level="INFO", fmt="json")
    try:
        with correlation_scope("req-42"):
            structlog.get_logger("pocketquant.test").info("hello", answer=42)
        logging.getLogger("stdlib.test").warning("from the standard library")
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    finally:
        structlog.reset_defaults()
    ours = next(line for line in lines if line["event"] == "hello")
    assert ours["correlation_id"] == "req-42"
    assert ours["logger"] == "pocketquant.test" and ours["level"] == "info" and ours["answer"] == 42
    assert ours["timestamp"].endswith("Z") and "T" in ours["timestamp"]
    stdlib = next(line for line in lines if line["event"] == "from the standard library")
    assert stdlib["level"] == "warning" and stdlib["logger"] == "stdlib.test"


def test_console_logs_are_readable_lines(capsys):
    configure_logging(level="INFO", fmt="console")
    try:
        structlog.get_logger("pocketquant.test").info("readable", n=1)
        out = capsys.readouterr().out
    finally:
        structlog.reset_defaults()
    assert "readable" in out and "n=1" in out and not out.lstrip().startswith("{")


def test_chunk_layout_is_per_series_when_embedded_shared_on_mongodb_unless_set():
    from src.app.root import bootstrap

    def per_series(**values) -> bool:
        return bootstrap(load_settings(**values)).core.bars.collections_per_chunk  # built, never started

    assert per_series() is True
    assert per_series(mongodb_url="mongodb://db:27017") is False
    assert per_series(mongodb_url="mongodb://db", mongodb_collection_per_series=True)
