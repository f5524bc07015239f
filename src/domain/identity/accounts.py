"""Users, API keys and the principal a request acts as.

Rules:
1. A username is 3 to 64 characters: lowercase letters, digits, `_ . -`, starting with a letter or digit.
2. A password is 12 to 256 characters, is not made of one repeated character, and does not contain the
   username (case ignored).
3. A disabled user cannot log in, refresh, or use its API keys.
4. An API key acts with its own role, lowered to its owner's current role: demoting a user demotes their
   keys; a revoked key authenticates nobody. Revoking twice changes nothing.
5. An API key is written `pq_<key id>_<secret>`; only a digest of the secret is kept.
6. There is always an enabled admin: a change that would leave none (demoting or disabling the last one)
   is refused.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from src.domain.identity.errors import InvalidUsername, WeakPassword
from src.domain.identity.roles import Permission, Role, allows

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]{2,63}$")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256  # hashing cost grows with length: bounded
API_KEY_PREFIX = "pq_"
# Whom requests act for when the service runs without authentication (the owner of the alerts made then).
OPEN_OWNER = "local"
_API_KEY = re.compile(r"^pq_([0-9a-f]{16})_([A-Za-z0-9_\-]{20,128})$")


def check_username(username: str) -> str:
    if not _USERNAME.match(username):
        raise InvalidUsername(
            "a username is 3 to 64 characters: lowercase letters, digits, '_', '.', '-', starting with a letter "
            "or digit", field="username")
    return username


def check_password(password: str, username: str) -> None:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise WeakPassword(f"a password is {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters",
                           field="password")
    if len(set(password)) == 1:
        raise WeakPassword("a password is not one repeated character", field="password")
    if username.lower() in password.lower():
        raise WeakPassword("a password does not contain the username", field="password")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as: a user, through an access token or one of its API keys."""

    user_id: str
    username: str
    role: Role
    key_id: str | None = None
    session_id: str | None = None  # the login (refresh-token family) an access token was issued for

    def can(self, permission: Permission) -> bool:
        return allows(self.role, permission)

    @property
    def name(self) -> str:
        """For logs: the username, and the key when one was used."""
        return self.username if self.key_id is None else f"{self.username}/key:{self.key_id}"

    @property
    def rate_key(self) -> str:
        """Whose rate-limit bucket a request draws from: each key has its own, a user's tokens share one."""
        return f"user:{self.user_id}" if self.key_id is None else f"key:{self.key_id}"


@dataclass(frozen=True, slots=True)
class User:
    user_id: str
    username: str
    role: Role
    password_hash: str
    created_at: float
    updated_at: float
    disabled: bool = False

    def principal(self, session_id: str | None = None) -> Principal:
        return Principal(self.user_id, self.username, self.role, session_id=session_id)

    def changed(self, now: float, *, role: Role | None = None, disabled: bool | None = None,
                password_hash: str | None = None) -> "User":
        return replace(
            self, role=role or self.role, disabled=self.disabled if disabled is None else disabled,
            password_hash=password_hash or self.password_hash, updated_at=now,
        )


@dataclass(frozen=True, slots=True)
class ApiKey:
    key_id: str
    owner_id: str
    owner_username: str
    name: str
    role: Role
    secret_digest: str
    created_at: float
    last_used_at: float | None = None
    revoked_at: float | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def revoke(self, now: float) -> "ApiKey":
        return self if self.revoked else replace(self, revoked_at=now)

    def principal(self, owner: User) -> Principal:
        return Principal(owner.user_id, owner.username, self.role.at_most(owner.role), self.key_id)

    def used(self, now: float) -> "ApiKey":
        return replace(self, last_used_at=now)


def compose_api_key(key_id: str, secret: str) -> str:
    return f"{API_KEY_PREFIX}{key_id}_{secret}"


def parse_api_key(text: str) -> tuple[str, str] | None:
    """(key id, secret) of a well-formed key, else None."""
    match = _API_KEY.match(text)
    return (match.group(1), match.group(2)) if match else None


def keeps_an_admin(users: Iterable[User], changed: User) -> bool:
    """Whether, with `changed` replacing the user of the same id, an enabled admin remains."""
    after = [changed if u.user_id == changed.user_id else u for u in users]
    return any(u.role is Role.ADMIN and not u.disabled for u in after)
