"""Webhook signatures: HMAC-SHA256 over `timestamp.body`, checked with a freshness window."""

import hashlib
import hmac

from src.infrastructure.notify.signing import sign, verify


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    expected = hmac.new(b"k", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert sign(b"k", "1700000000", b"{}") == f"sha256={expected}"


def test_verify_accepts_fresh_and_rejects_tampered_or_stale():
    signature = sign(b"k", "1000", b"body")
    assert verify(b"k", "1000", b"body", signature, now=1100)
    assert not verify(b"k", "1000", b"body!", signature, now=1100)
    assert not verify(b"k", "1001", b"body", signature, now=1100)
    assert not verify(b"k", "1000", b"body", signature, now=2000)
    assert not verify(b"k", "not-a-number", b"body", signature, now=1000)
