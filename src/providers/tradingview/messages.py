"""Protocol messages: `{"m": method, "p": [params]}` payloads, session ids and symbol specs."""

import secrets
import string
from dataclasses import dataclass
from typing import Any

import orjson

from src.providers.tradingview.framing import encode_frame

ANONYMOUS_TOKEN = "unauthorized_user_token"
_ID_ALPHABET = string.ascii_lowercase + string.digits

# Fields the quote session asks for (tvdatafeed's list plus bid/ask).
QUOTE_FIELDS: tuple[str, ...] = (
    "ch", "chp", "current_session", "description", "exchange", "lp", "lp_time", "pro_name",
    "short_name", "type", "update_mode", "volume", "currency_code", "bid", "ask",
)
# Reasons after which the server closes and reconnecting with the same token is pointless.
FATAL_PROTOCOL_REASONS = ("bad auth token", "banned", "banned by user_id", "banned by ip",
                          "user connections limit reached")


class MessageError(ValueError):
    """A frame payload that is not a protocol message."""


@dataclass(frozen=True, slots=True)
class Message:
    method: str
    params: list[Any]
    raw: dict[str, Any]

    @property
    def session(self) -> str | None:
        first = self.params[0] if self.params else None
        return first if isinstance(first, str) else None


def session_id(prefix: str) -> str:
    return f"{prefix}_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))


def request_frame(method: str, *params: Any) -> str:
    return encode_frame(orjson.dumps({"m": method, "p": list(params)}).decode())


def symbol_spec(ticker: str, *, adjustment: str = "splits", session: str = "regular") -> str:
    """The `={...}` JSON-in-a-string form `resolve_symbol` takes."""
    return "=" + orjson.dumps({"adjustment": adjustment, "session": session, "symbol": ticker}).decode()


def decode_payload(payload: str) -> dict[str, Any]:
    try:
        value = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise MessageError(f"payload is not JSON: {payload[:60]!r}") from exc
    if not isinstance(value, dict):
        raise MessageError(f"payload is not a JSON object: {payload[:60]!r}")
    return value


def as_message(value: dict[str, Any]) -> Message | None:
    """The message in a decoded payload, or None for the hello (an object without `m`)."""
    method = value.get("m")
    if method is None:
        return None
    params = value.get("p", [])
    if not isinstance(method, str) or not isinstance(params, list):
        raise MessageError(f"bad message shape: m={method!r}")
    return Message(method, params, value)
