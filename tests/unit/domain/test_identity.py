"""The identity rules, one test each (roles, accounts, API keys, refresh-token families)."""

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from src.domain.identity import (
    ApiKey,
    InvalidUsername,
    Permission,
    RefreshToken,
    RefreshVerdict,
    Role,
    User,
    WeakPassword,
    allows,
    check_password,
    check_username,
    compose_api_key,
    keeps_an_admin,
    may_grant,
    parse_api_key,
)
from src.domain.identity.exposure import default_trusted_hosts, is_loopback, may_run_open

# --- roles ----------------------------------------------------------------------------------------------

OWN_ACCOUNT_AND_READ = {Permission.READ, Permission.USE_OWN_ACCOUNT}


def test_a_viewer_reads_and_uses_its_own_account_and_nothing_else():
    assert {p for p in Permission if allows(Role.VIEWER, p)} == OWN_ACCOUNT_AND_READ


def test_a_trader_is_a_viewer_who_also_runs_syncs_and_manages_its_own_alerts():
    assert {p for p in Permission if allows(Role.TRADER, p)} == OWN_ACCOUNT_AND_READ | {
        Permission.RUN_SYNCS, Permission.MANAGE_OWN_ALERTS}


def test_an_admin_may_do_everything():
    assert all(allows(Role.ADMIN, p) for p in Permission)


@pytest.mark.parametrize("granter", list(Role))
@pytest.mark.parametrize("granted", list(Role))
def test_a_role_may_grant_only_roles_no_higher_than_its_own(granter, granted):
    order = [Role.VIEWER, Role.TRADER, Role.ADMIN]
    assert may_grant(granter, granted) == (order.index(granted) <= order.index(granter))


# --- accounts -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["alice", "bob.smith", "x_1-2", "a" * 64, "007"])
def test_valid_usernames(name):
    assert check_username(name) == name


@pytest.mark.parametrize("name", ["al", "a" * 65, "Alice", "-alice", "al ice", "alice!", ""])
def test_invalid_usernames_name_the_field(name):
    with pytest.raises(InvalidUsername) as refused:
        check_username(name)
    assert refused.value.field == "username"


@pytest.mark.parametrize("password", ["short-pw", "x" * 257, "aaaaaaaaaaaaaaaa", "my-ALICE-password-1"])
def test_weak_passwords_are_refused(password):
    with pytest.raises(WeakPassword) as refused:
        check_password(password, "alice")
    assert refused.value.field == "password"


def test_a_long_enough_varied_password_without_the_username_is_taken():
    check_password("correct horse battery", "alice")


def user(role: Role = Role.ADMIN, user_id: str = "u1", disabled: bool = False) -> User:
    return User(user_id, f"user-{user_id}", role, "hash", 1.0, 1.0, disabled)


def key(role: Role = Role.ADMIN, revoked_at: float | None = None) -> ApiKey:
    return ApiKey("0123456789abcdef", "u1", "user-u1", "bot", role, "digest", 1.0, revoked_at=revoked_at)


@pytest.mark.parametrize(("key_role", "owner_role", "effective"), [
    (Role.ADMIN, Role.VIEWER, Role.VIEWER), (Role.VIEWER, Role.ADMIN, Role.VIEWER),
    (Role.TRADER, Role.ADMIN, Role.TRADER),
])
def test_a_key_acts_with_its_role_lowered_to_its_owners_current_role(key_role, owner_role, effective):
    principal = key(key_role).principal(user(owner_role))
    assert principal.role is effective and principal.key_id == "0123456789abcdef"


def test_revoking_twice_changes_nothing():
    once = key().revoke(5.0)
    assert once.revoked and once.revoke(9.0) == once


@given(st.text(alphabet="0123456789abcdef", min_size=16, max_size=16),
       st.text(alphabet="abcXYZ019_-", min_size=20, max_size=64))
def test_a_composed_api_key_parses_back(key_id, secret):
    assert parse_api_key(compose_api_key(key_id, secret)) == (key_id, secret)


@pytest.mark.parametrize("text", ["", "pq_", "pq_0123_secretsecretsecretsecret", "xx_0123456789abcdef_" + "s" * 30,
                                  "pq_0123456789ABCDEF_" + "s" * 30, "pq_0123456789abcdef_short"])
def test_malformed_api_keys_do_not_parse(text):
    assert parse_api_key(text) is None


def test_the_last_enabled_admin_cannot_be_demoted_or_disabled():
    admin, other = user(Role.ADMIN, "a"), user(Role.VIEWER, "b")
    assert not keeps_an_admin([admin, other], user(Role.TRADER, "a"))
    assert not keeps_an_admin([admin, other], user(Role.ADMIN, "a", disabled=True))
    assert keeps_an_admin([admin, user(Role.ADMIN, "b")], user(Role.VIEWER, "a"))


# --- refresh-token families ---------------------------------------------------------------------------


def token(**changes) -> RefreshToken:
    """Issued at 100 for 50 s."""
    return replace(RefreshToken.first("d1", "fam", "u1", now=100.0, ttl_s=50.0), **changes)


def test_a_fresh_token_is_rotated():
    assert token().judge(120.0) is RefreshVerdict.ROTATE


def test_a_token_used_before_is_a_reuse():
    assert token(used_at=110.0).judge(120.0) is RefreshVerdict.REUSED


def test_a_revoked_familys_token_is_refused_even_if_unused_or_used():
    assert token(revoked_at=110.0).judge(120.0) is RefreshVerdict.REVOKED
    assert token(revoked_at=110.0, used_at=105.0).judge(120.0) is RefreshVerdict.REVOKED


def test_an_expired_token_is_refused():
    assert token().judge(150.0) is RefreshVerdict.EXPIRED
    assert token(used_at=110.0).judge(150.0) is RefreshVerdict.REUSED  # a late replay is still a reuse


def test_the_successor_belongs_to_the_same_family_and_starts_unused():
    successor = token(used_at=110.0).successor("d2", 120.0, 50.0)
    assert (successor.family_id, successor.user_id, successor.used_at) == ("fam", "u1", None)
    assert (successor.token_digest, successor.issued_at, successor.expires_at) == ("d2", 120.0, 170.0)


# --- exposure -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("127.8.9.1", True), ("::1", True),
                                                ("[::1]", True), ("localhost", True), ("0.0.0.0", False),
                                                ("10.0.0.5", False), ("api.example.com", False), ("::", False)])
def test_loopback_addresses(host, loopback):
    assert is_loopback(host) is loopback


def test_the_service_may_run_open_only_in_development_on_loopback():
    assert may_run_open("development", "127.0.0.1")
    assert not may_run_open("development", "0.0.0.0")
    assert not may_run_open("production", "127.0.0.1")


def test_on_loopback_only_loopback_names_are_expected_in_host():
    assert "localhost" in default_trusted_hosts("127.0.0.1") and "*" not in default_trusted_hosts("127.0.0.1")
    assert default_trusted_hosts("0.0.0.0") == ("*",)
