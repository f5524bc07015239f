"""Every invalid setting stops the start with one clear line naming it, never a traceback and never the value."""

import subprocess
import sys
from pathlib import Path

import pytest

from src.common.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[3]


def refusal(monkeypatch: pytest.MonkeyPatch, **environment: str) -> str:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None)
    return str(caught.value)


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("WEBHOOK_URLS", "https://hooks.example/a", "expected a JSON list"),
        ("CORS_ORIGINS", "https://app.example", "expected a JSON list"),
        ("TRUSTED_PROXIES", "10.0.0.0/8", "expected a JSON list"),
        ("TRUSTED_HOSTS", "api.example.com", "expected a JSON list"),
        ("LIVE_BAR_INTERVALS", "1m,5m", "expected a JSON list"),
        ("REDIS_URL", "notaurl", "redis://"),
        ("REDIS_URL", "redis://", "naming a host"),
        ("MONGODB_URL", "postgres://db/x", "mongodb://"),
        ("TRADINGVIEW_WS_URL", "https://data.example", "ws://"),
        ("WEBHOOK_URLS", '["ftp://files.example/in"]', "http://"),
        ("WEBHOOK_URLS", '["https://hooks.example:99999/in"]', "does not parse"),
        ("CORS_ORIGINS", '["https://app.example/path"]', "origin"),
        ("TRUSTED_PROXIES", '["not-a-network"]', "CIDR"),
        ("TRUSTED_HOSTS", '["bad host"]', "host name"),
        ("AUTH_JWT_SECRET", "too-short", "at least 32 characters"),
    ],
)
def test_an_invalid_value_is_one_line_naming_the_variable_and_what_was_expected(monkeypatch, variable, value,
                                                                                   expected):
    message = refusal(monkeypatch, **{variable: value})
    assert message.startswith(f"invalid setting {variable}")
    assert expected in message
    assert "\n" not in message


def test_several_invalid_settings_get_one_line_each(monkeypatch):
    message = refusal(monkeypatch, REDIS_URL="notaurl", API_PORT="http", WEBHOOK_URLS='["ftp://x", "https://ok"]')
    lines = message.splitlines()
    assert len(lines) == 3
    assert {line.split(":")[0] for line in lines} == {
        "invalid setting REDIS_URL", "invalid setting API_PORT", "invalid setting WEBHOOK_URLS[0]"
    }


def test_a_refused_url_with_credentials_is_not_repeated(monkeypatch):
    message = refusal(monkeypatch, REDIS_URL="http://user:hunter2-secret@cache:6379",
                      WEBHOOK_URLS='["ftp://bot:token-secret@files.example/in"]')
    assert "hunter2-secret" not in message and "token-secret" not in message


def test_valid_lists_and_urls_are_taken(monkeypatch):
    monkeypatch.setenv("WEBHOOK_URLS", '["https://hooks.example/a", "http://127.0.0.1:9000/b"]')
    monkeypatch.setenv("CORS_ORIGINS", '["https://app.example/"]')
    monkeypatch.setenv("TRUSTED_HOSTS", '["API.example.com", "*.example.org", "127.0.0.1", "[::1]"]')
    monkeypatch.setenv("REDIS_URL", "unix:///run/redis.sock")
    settings = load_settings(_env_file=None)
    assert settings.webhook_urls == ["https://hooks.example/a", "http://127.0.0.1:9000/b"]
    assert settings.cors_origins == ["https://app.example"]
    assert settings.trusted_hosts == ["api.example.com", "*.example.org", "127.0.0.1", "[::1]"]


def test_the_service_entry_point_prints_the_line_without_a_traceback(tmp_path):
    environment = {"PATH": "/usr/bin:/bin", "WEBHOOK_URLS": "https://hooks.example/a", "REDIS_URL": "notaurl",
                   "DATA_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "src.main"], cwd=tmp_path, env={**environment,
                            "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "invalid setting REDIS_URL: expected a URL starting with redis:// or rediss:// or unix://",
        'invalid setting WEBHOOK_URLS: expected a JSON list, e.g. ["https://a.example", "https://b.example"]',
    ]
