"""Roles and what each allows: the one table of permissions.

Rules:
1. `viewer` reads everything (market data, statuses, quotes, jobs, metrics) and uses its own account (its
   profile, its password, its own API keys).
2. `trader` is a viewer who also runs syncs and manages its own alerts.
3. `admin` may do everything: users, every API key, tracked symbols, jobs, the quotes session, webhook
   deliveries, every alert.
4. Roles are ordered viewer < trader < admin; whoever grants a role (to an API key) may grant only a role
   no higher than their own.
"""

from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    TRADER = "trader"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def at_most(self, other: "Role") -> "Role":
        """The lower of the two roles."""
        return self if self.rank <= other.rank else other


_RANKS = {Role.VIEWER: 0, Role.TRADER: 1, Role.ADMIN: 2}


class Permission(StrEnum):
    READ = "read"
    USE_OWN_ACCOUNT = "use own account"
    RUN_SYNCS = "run syncs"
    MANAGE_OWN_ALERTS = "manage own alerts"
    MANAGE_SYMBOLS = "manage tracked symbols"
    MANAGE_QUOTES = "manage the quotes session"
    RUN_JOBS = "run jobs"
    READ_WEBHOOK_DELIVERIES = "read webhook deliveries"
    REDELIVER_WEBHOOKS = "redeliver webhook dead letters"
    MANAGE_USERS = "manage users"
    MANAGE_ALL_API_KEYS = "manage every API key"
    MANAGE_ALL_ALERTS = "manage every alert"


_VIEWER = frozenset({Permission.READ, Permission.USE_OWN_ACCOUNT})
_TRADER = _VIEWER | {Permission.RUN_SYNCS, Permission.MANAGE_OWN_ALERTS}
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: _VIEWER,
    Role.TRADER: _TRADER,
    Role.ADMIN: frozenset(Permission),
}


def allows(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]


def may_grant(granter: Role, granted: Role) -> bool:
    return granted.rank <= granter.rank


def roles_allowed(permission: Permission) -> list[Role]:
    """The roles that have `permission`, lowest first (for documentation)."""
    return [role for role in Role if allows(role, permission)]
