"""Identity: roles and what they allow, users, API keys, principals, refresh-token families, and when
the service may run without authentication. Pure rules; storage, hashing and signing are adapters."""

from src.domain.identity.accounts import (
    API_KEY_PREFIX,
    OPEN_OWNER,
    ApiKey,
    Principal,
    User,
    check_password,
    check_username,
    compose_api_key,
    keeps_an_admin,
    parse_api_key,
)
from src.domain.identity.errors import InvalidUsername, WeakPassword
from src.domain.identity.refresh import RefreshToken, RefreshVerdict
from src.domain.identity.roles import ROLE_PERMISSIONS, Permission, Role, allows, may_grant, roles_allowed

__all__ = [
    "API_KEY_PREFIX",
    "OPEN_OWNER",
    "ROLE_PERMISSIONS",
    "ApiKey",
    "InvalidUsername",
    "Permission",
    "Principal",
    "RefreshToken",
    "RefreshVerdict",
    "Role",
    "User",
    "WeakPassword",
    "allows",
    "check_password",
    "check_username",
    "compose_api_key",
    "keeps_an_admin",
    "may_grant",
    "parse_api_key",
    "roles_allowed",
]
