"""HMAC-SHA256 over `"{timestamp}.{body}"`, sent as `X-PocketQuant-Signature: sha256=<hex>` with the
timestamp (epoch seconds) in `X-PocketQuant-Timestamp`. Receivers recompute it and reject old timestamps."""

import hashlib
import hmac

SIGNATURE_HEADER = "X-PocketQuant-Signature"
TIMESTAMP_HEADER = "X-PocketQuant-Timestamp"
EVENT_HEADER = "X-PocketQuant-Event"
DELIVERY_HEADER = "X-PocketQuant-Delivery"


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(
    secret: bytes, timestamp: str, body: bytes, signature: str, *, now: float, tolerance_s: float = 300
) -> bool:
    """What a receiver does: same signature, and a timestamp within `tolerance_s` of `now`."""
    try:
        fresh = abs(now - int(timestamp)) <= tolerance_s
    except ValueError:
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp, body), signature)
