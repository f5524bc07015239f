"""Commands and Queries of the identity slice: sessions (login, refresh, logout), users, API keys.
Messages acting for someone carry the `actor` (the authenticated principal)."""

from dataclasses import dataclass

from src.domain.identity import Principal, Role


@dataclass(frozen=True, slots=True)
class LoginCommand:
    username: str
    password: str


@dataclass(frozen=True, slots=True)
class RefreshTokensCommand:
    refresh_token: str


@dataclass(frozen=True, slots=True)
class LogoutCommand:
    refresh_token: str


@dataclass(frozen=True, slots=True)
class RegisterUserCommand:
    """Open registration (off unless AUTH_OPEN_REGISTRATION): a new viewer."""

    username: str
    password: str


@dataclass(frozen=True, slots=True)
class ChangePasswordCommand:
    actor: Principal
    current_password: str
    new_password: str


@dataclass(frozen=True, slots=True)
class CreateUserCommand:
    actor: Principal
    username: str
    password: str
    role: Role


@dataclass(frozen=True, slots=True)
class UpdateUserCommand:
    actor: Principal
    username: str
    role: Role | None = None
    disabled: bool | None = None
    password: str | None = None


@dataclass(frozen=True, slots=True)
class ListUsersQuery:
    actor: Principal


@dataclass(frozen=True, slots=True)
class CreateApiKeyCommand:
    """A key for the actor, or (admins) for `owner`; `role` defaults to the highest the key may have."""

    actor: Principal
    name: str
    role: Role | None = None
    owner: str | None = None


@dataclass(frozen=True, slots=True)
class ListApiKeysQuery:
    """The actor's keys; every key when `every` (admins)."""

    actor: Principal
    every: bool = False


@dataclass(frozen=True, slots=True)
class RevokeApiKeyCommand:
    actor: Principal
    key_id: str
