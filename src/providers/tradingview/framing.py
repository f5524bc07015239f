"""The socket.io-0.6 style framing TradingView still uses: `~m~LEN~m~payload`, several frames per
WebSocket message, heartbeats `~h~N` echoed verbatim.

LEN is counted in characters (what TradingView's web client does). Decoding slices by LEN; for non-ASCII
messages, where a peer may have counted UTF-8 bytes instead, it also tries splitting on the frame markers
and takes that reading when every declared LEN matches its part in characters or bytes. Anything that is
not a sequence of frames raises `FrameError`.
"""

import re
from collections.abc import Iterable

_MARK = "~m~"
_HEARTBEAT = "~h~"
_SPLIT = re.compile(r"~m~(\d+)~m~")


class FrameError(ValueError):
    """A WebSocket message that is not a well-formed sequence of frames."""


def encode_frame(payload: str) -> str:
    return f"{_MARK}{len(payload)}{_MARK}{payload}"


def encode_frames(payloads: Iterable[str]) -> str:
    return "".join(encode_frame(p) for p in payloads)


def heartbeat_payload(n: int) -> str:
    return f"{_HEARTBEAT}{n}"


def is_heartbeat(payload: str) -> bool:
    return payload.startswith(_HEARTBEAT)


def decode_frames(message: str) -> list[str]:
    """Payloads of every frame in `message`, in order."""
    if not isinstance(message, str) or not message:
        raise FrameError("empty message")
    try:
        by_length: list[str] | None = _decode_by_length(message)
    except FrameError:
        by_length = None
    if by_length is not None and (message.isascii() or not any(_SPLIT.search(p) for p in by_length)):
        return by_length
    by_marker = _decode_by_marker(message)
    if by_marker is not None:
        return by_marker
    if by_length is not None:
        return by_length  # payloads that merely contain marker-like text
    raise FrameError(f"not a frame sequence: {message[:40]!r}")


def _decode_by_length(message: str) -> list[str]:
    payloads: list[str] = []
    pos, end = 0, len(message)
    while pos < end:
        if not message.startswith(_MARK, pos):
            raise FrameError(f"expected {_MARK} at {pos}")
        digits_start = pos + 3
        digits_end = message.find(_MARK, digits_start)
        if digits_end <= digits_start:
            raise FrameError(f"missing length at {pos}")
        digits = message[digits_start:digits_end]
        if not (digits.isascii() and digits.isdigit()):
            raise FrameError(f"bad length {digits[:20]!r} at {pos}")
        start = digits_end + 3
        stop = start + int(digits)
        if stop > end:
            raise FrameError(f"frame at {pos} overruns the message")
        payloads.append(message[start:stop])
        pos = stop
    return payloads


def _decode_by_marker(message: str) -> list[str] | None:
    """Split on `~m~LEN~m~`; None unless each LEN matches its part in characters or UTF-8 bytes."""
    parts = _SPLIT.split(message)  # ["", len1, payload1, len2, payload2, ...]
    if len(parts) < 3 or parts[0]:
        return None
    payloads = parts[2::2]
    for declared, payload in zip(parts[1::2], payloads, strict=True):
        size = int(declared)
        if size != len(payload) and size != len(payload.encode("utf-8", "surrogatepass")):
            return None
    return payloads
