"""The JWT and Argon2 adapters."""

import base64
import json

import jwt
import pytest

from src.common.errors import Unauthenticated
from src.domain.identity import Principal, Role
from src.infrastructure.auth.jwt_tokens import JwtAccessTokens, key_id
from src.infrastructure.auth.passwords import Argon2Passwords

OLD = "old-signing-key-" + "o" * 32
NEW = "new-signing-key-" + "n" * 32
ALICE = Principal("u1", "alice", Role.TRADER, session_id="family-1")
NOW = 1_700_000_000.0


def test_a_token_carries_the_principal_and_names_its_key():
    tokens = JwtAccessTokens(NEW, ttl_s=600)
    issued = tokens.issue(ALICE, NOW)
    assert jwt.get_unverified_header(issued.token)["kid"] == key_id(NEW)
    verified = tokens.verify(issued.token, NOW + 599)
    assert (verified.principal, verified.expires_at) == (ALICE, NOW + 600)


def test_a_token_names_its_login_and_one_issued_without_a_login_verifies_without_one():
    tokens = JwtAccessTokens(NEW, ttl_s=600)
    assert jwt.decode(tokens.issue(ALICE, NOW).token, options={"verify_signature": False})["sid"] == "family-1"
    without_login = Principal("u1", "alice", Role.TRADER)
    issued = tokens.issue(without_login, NOW)
    assert "sid" not in jwt.decode(issued.token, options={"verify_signature": False})
    assert tokens.verify(issued.token, NOW).principal == without_login


def test_an_expired_token_is_refused_by_the_services_clock():
    tokens = JwtAccessTokens(NEW, ttl_s=600)
    with pytest.raises(Unauthenticated, match="expired"):
        tokens.verify(tokens.issue(ALICE, NOW).token, NOW + 600)


def _tamper(token: str, **claims: object) -> str:
    header, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps({**data, **claims}).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


@pytest.mark.parametrize("claims", [{"role": "admin"}, {"sub": "u2"}, {"exp": NOW + 10**9}])
def test_a_tampered_token_is_refused(claims):
    tokens = JwtAccessTokens(NEW)
    with pytest.raises(Unauthenticated, match="invalid"):
        tokens.verify(_tamper(tokens.issue(ALICE, NOW).token, **claims), NOW)


def test_tokens_signed_elsewhere_or_with_none_are_refused():
    foreign = jwt.encode({"sub": "u1", "name": "alice", "role": "admin", "typ": "access", "iat": NOW,
                          "exp": NOW + 60, "iss": "pocketquant"}, "x" * 40, algorithm="HS256",
                         headers={"kid": key_id(NEW)})
    unsigned = jwt.encode({"sub": "u1"}, None, algorithm="none")
    for token in (foreign, unsigned, "", "not.a.token"):
        with pytest.raises(Unauthenticated):
            JwtAccessTokens(NEW).verify(token, NOW)


def test_rotating_keys_keeps_tokens_signed_with_the_previous_key_valid():
    before = JwtAccessTokens(OLD).issue(ALICE, NOW).token
    after_rotation = JwtAccessTokens(NEW, previous=[OLD])
    assert after_rotation.verify(before, NOW).principal == ALICE
    assert jwt.get_unverified_header(after_rotation.issue(ALICE, NOW).token)["kid"] == key_id(NEW)
    with pytest.raises(Unauthenticated, match="key this service does not know"):
        JwtAccessTokens(NEW).verify(before, NOW)  # once the old key is dropped


async def test_argon2_hashes_verify_and_differ_for_one_password():
    passwords = Argon2Passwords(time_cost=1, memory_cost_kib=8192, parallelism=1)
    first, second = await passwords.hash("correct horse battery"), await passwords.hash("correct horse battery")
    assert first.startswith("$argon2id$") and first != second
    assert await passwords.verify(first, "correct horse battery")
    assert not await passwords.verify(first, "wrong horse battery")
    assert not await passwords.verify("not a hash", "correct horse battery")
