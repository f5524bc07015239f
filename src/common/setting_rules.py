"""Checks of single setting values. Each failure says what was expected and never repeats the value
(it may hold credentials); `load_settings` turns them into one line per invalid variable."""

import ipaddress
import json
import re
from typing import Any
from urllib.parse import urlsplit

_HOST_PATTERN = re.compile(r"^(\*|(\*\.)?[A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9\-]{0,61}"
                           r"[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:.]+)$")


def json_list(value: Any) -> Any:
    """A list given as JSON text in the environment (`'["a", "b"]'`); lists given directly pass."""
    if not isinstance(value, str):
        return value
    try:
        parsed = json.loads(value)
    except ValueError:
        raise ValueError('expected a JSON list, e.g. ["https://a.example", "https://b.example"]') from None
    if not isinstance(parsed, list):
        raise ValueError('expected a JSON list, e.g. ["https://a.example"]')
    return parsed


def url(value: str, schemes: tuple[str, ...]) -> str:
    """An absolute URL with one of `schemes` and a host (`unix://` needs a path instead)."""
    expected = f"expected a URL starting with {' or '.join(s + '://' for s in schemes)}"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a port that is not a number or out of range
    except ValueError:
        raise ValueError(f"{expected} (it does not parse)") from None
    if parts.scheme not in schemes:
        raise ValueError(expected)
    if parts.scheme == "unix":
        if not parts.path:
            raise ValueError("expected unix:///path/to/redis.sock")
    elif not parts.hostname:
        raise ValueError(f"{expected} and naming a host")
    return value


def origin(value: str) -> str:
    """A browser origin: `scheme://host[:port]`, no path, or `*`."""
    if value == "*":
        return value
    url(value, ("http", "https"))
    parts = urlsplit(value)
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError("expected an origin such as https://app.example (scheme, host and port only)")
    return value.rstrip("/")


def cidr(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError("expected an address or CIDR such as 10.0.0.0/8") from None
    return value


def host_pattern(value: str) -> str:
    """A host name (`api.example.com`), a wildcard subdomain (`*.example.com`), an address, or `*`."""
    if not _HOST_PATTERN.match(value):
        raise ValueError("expected a host name such as api.example.com, *.example.com, 127.0.0.1 or *")
    return value.lower()


def error_line(location: tuple[Any, ...], message: str) -> str:
    """`invalid setting WEBHOOK_URLS[1]: expected a http:// or https:// URL`."""
    name = str(location[0]).upper() if location else "settings"
    index = "".join(f"[{part}]" for part in location[1:])
    return f"invalid setting {name}{index}: {message.removeprefix('Value error, ')}"
