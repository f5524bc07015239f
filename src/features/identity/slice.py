"""The identity slice: who calls the service. Users with roles (admin, trader, viewer), logins with
short-lived access tokens and rotating refresh tokens, API keys for programs, and the first admin.

Without a signing key (authentication off: development on loopback only) every handler refuses with
`AuthenticationOff` and no first admin is made."""

from typing import Protocol

from src.common.lifecycle import Component
from src.common.ports import (
    AccessTokens,
    ApiKeyRepository,
    Authenticator,
    Clock,
    OperatorConsole,
    PasswordHasher,
    RefreshTokenRepository,
    Secrets,
    UserRepository,
)
from src.common.settings import Settings
from src.features.identity import handlers as h
from src.features.identity import messages as m
from src.features.identity.accounts import Accounts
from src.features.identity.first_admin import FirstAdmin
from src.features.identity.routes import api_keys_router, auth_router, users_router
from src.features.identity.sessions import Sessions
from src.features.shared.slice import Handler, Slice, SliceParts


class IdentityDeps(Protocol):
    @property
    def settings(self) -> Settings: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def users(self) -> UserRepository: ...
    @property
    def api_keys(self) -> ApiKeyRepository: ...
    @property
    def refresh_tokens(self) -> RefreshTokenRepository: ...
    @property
    def passwords(self) -> PasswordHasher: ...
    @property
    def access_tokens(self) -> AccessTokens: ...
    @property
    def authenticator(self) -> Authenticator: ...
    @property
    def secrets(self) -> Secrets: ...
    @property
    def console(self) -> OperatorConsole: ...


def build(d: IdentityDeps) -> SliceParts:
    accounts = Accounts(d.users, d.passwords, d.secrets, d.clock)
    sessions = Sessions(d.access_tokens, d.refresh_tokens, d.users, d.secrets, d.clock,
                        refresh_ttl_s=d.settings.auth_refresh_token_ttl_s)
    handlers: dict[type, Handler] = {
        m.LoginCommand: h.LoginHandler(accounts, sessions),
        m.RefreshTokensCommand: h.RefreshTokensHandler(sessions),
        m.LogoutCommand: h.LogoutHandler(sessions),
        m.RegisterUserCommand: h.RegisterUserHandler(accounts, d.settings.auth_open_registration),
        m.ChangePasswordCommand: h.ChangePasswordHandler(accounts, d.users, d.passwords, sessions, d.clock),
        m.CreateUserCommand: h.CreateUserHandler(accounts),
        m.UpdateUserCommand: h.UpdateUserHandler(accounts, d.users, sessions, d.authenticator, d.clock),
        m.ListUsersQuery: h.ListUsersHandler(d.users),
        m.CreateApiKeyCommand: h.CreateApiKeyHandler(d.api_keys, d.users, d.secrets, d.clock),
        m.ListApiKeysQuery: h.ListApiKeysHandler(d.api_keys),
        m.RevokeApiKeyCommand: h.RevokeApiKeyHandler(d.api_keys, d.authenticator, d.clock),
    }
    if d.settings.auth_jwt_secret is None:
        return SliceParts(handlers={t: h.RefuseWhileAuthenticationIsOff(t) for t in handlers})
    password = d.settings.admin_password.get_secret_value() if d.settings.admin_password else None
    first_admin = FirstAdmin(accounts, d.users, d.secrets, d.console, username=d.settings.admin_username,
                             password=password)
    return SliceParts(handlers=handlers, components=[Component("first-admin", start=first_admin.ensure)])


SLICE = Slice("identity", build, routers=(auth_router, users_router, api_keys_router))
