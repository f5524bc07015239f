"""Handlers of the identity slice: sessions, users, API keys."""

from dataclasses import dataclass

from src.common.errors import AuthenticationOff, Conflict, Forbidden, NotFound, Unauthenticated
from src.common.ports import ApiKeyRepository, Authenticator, Clock, PasswordHasher, Secrets, UserRepository
from src.domain.identity import ApiKey, Permission, Principal, Role, User, compose_api_key, keeps_an_admin, may_grant
from src.features.identity import messages as m
from src.features.identity.accounts import Accounts
from src.features.identity.sessions import Sessions, TokenPair


class LoginHandler:
    def __init__(self, accounts: Accounts, sessions: Sessions) -> None:
        self._accounts = accounts
        self._sessions = sessions

    async def __call__(self, command: m.LoginCommand) -> TokenPair:
        user = await self._accounts.check_login(command.username, command.password)
        if user is None:
            raise Unauthenticated("wrong username or password")
        return await self._sessions.open(user)


class RefreshTokensHandler:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    async def __call__(self, command: m.RefreshTokensCommand) -> TokenPair:
        return await self._sessions.rotate(command.refresh_token)


class LogoutHandler:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    async def __call__(self, command: m.LogoutCommand) -> None:
        await self._sessions.close(command.refresh_token)


class RegisterUserHandler:
    def __init__(self, accounts: Accounts, open_registration: bool) -> None:
        self._accounts = accounts
        self._open = open_registration

    async def __call__(self, command: m.RegisterUserCommand) -> User:
        if not self._open:
            raise Forbidden("registration is closed on this service: an admin creates users")
        return await self._accounts.create(command.username, command.password, Role.VIEWER)


class ChangePasswordHandler:
    def __init__(self, accounts: Accounts, users: UserRepository, passwords: PasswordHasher, sessions: Sessions,
                 clock: Clock) -> None:
        self._accounts = accounts
        self._users = users
        self._passwords = passwords
        self._sessions = sessions
        self._clock = clock

    async def __call__(self, command: m.ChangePasswordCommand) -> None:
        user = await self._users.get(command.actor.user_id)
        if user is None or not await self._passwords.verify(user.password_hash, command.current_password):
            raise Unauthenticated("the current password is wrong")
        password_hash = await self._accounts.new_password_hash(user, command.new_password)
        await self._users.save(user.changed(self._clock.now(), password_hash=password_hash))
        # Every other login ends with the old password; an API key has no login, so then every login ends.
        await self._sessions.close_all(user.user_id, but=command.actor.session_id)


class CreateUserHandler:
    def __init__(self, accounts: Accounts) -> None:
        self._accounts = accounts

    async def __call__(self, command: m.CreateUserCommand) -> User:
        return await self._accounts.create(command.username, command.password, command.role)


class UpdateUserHandler:
    def __init__(self, accounts: Accounts, users: UserRepository, sessions: Sessions, authenticator: Authenticator,
                 clock: Clock) -> None:
        self._accounts = accounts
        self._users = users
        self._sessions = sessions
        self._authenticator = authenticator
        self._clock = clock

    async def __call__(self, command: m.UpdateUserCommand) -> User:
        user = await self._users.get_by_name(command.username)
        if user is None:
            raise NotFound(f"no user named {command.username!r}", field="username")
        password_hash = await self._accounts.new_password_hash(user, command.password) if command.password else None
        changed = user.changed(self._clock.now(), role=command.role, disabled=command.disabled,
                               password_hash=password_hash)
        if not keeps_an_admin(await self._users.list(), changed):
            raise Conflict("this would leave no enabled admin", field="role" if command.role else "disabled")
        await self._users.save(changed)
        if changed.disabled or password_hash:  # a demotion needs nothing: the next refresh carries the new role
            await self._sessions.close_all(user.user_id)
        self._authenticator.forget_owner(user.user_id)  # its API keys act with the new role at once
        return changed


class ListUsersHandler:
    def __init__(self, users: UserRepository) -> None:
        self._users = users

    async def __call__(self, query: m.ListUsersQuery) -> list[User]:
        return await self._users.list()


@dataclass(frozen=True, slots=True)
class CreatedApiKey:
    key: ApiKey
    plaintext: str  # shown once


class CreateApiKeyHandler:
    def __init__(self, api_keys: ApiKeyRepository, users: UserRepository, secrets: Secrets, clock: Clock) -> None:
        self._api_keys = api_keys
        self._users = users
        self._secrets = secrets
        self._clock = clock

    async def __call__(self, command: m.CreateApiKeyCommand) -> CreatedApiKey:
        actor = command.actor
        if actor.key_id is not None:
            raise Forbidden("API keys cannot create API keys: log in to create one")
        owner = await self._owner(actor, command.owner)
        role = command.role or actor.role.at_most(owner.role)
        if not may_grant(actor.role, role):
            raise Forbidden(f"a {actor.role} cannot create a key with the role {role}", field="role")
        secret = self._secrets.new_secret()
        key = ApiKey(self._secrets.new_id(), owner.user_id, owner.username, command.name, role,
                     self._secrets.digest(secret), self._clock.now())
        await self._api_keys.add(key)
        return CreatedApiKey(key, compose_api_key(key.key_id, secret))

    async def _owner(self, actor: Principal, owner_name: str | None) -> User:
        if owner_name is not None and owner_name != actor.username and not actor.can(Permission.MANAGE_ALL_API_KEYS):
            raise Forbidden("only admins create keys for other users", field="owner")
        owner = await self._users.get_by_name(owner_name) if owner_name else await self._users.get(actor.user_id)
        if owner is None:
            raise NotFound(f"no user named {owner_name!r}", field="owner")
        return owner


class ListApiKeysHandler:
    def __init__(self, api_keys: ApiKeyRepository) -> None:
        self._api_keys = api_keys

    async def __call__(self, query: m.ListApiKeysQuery) -> list[ApiKey]:
        if query.every and not query.actor.can(Permission.MANAGE_ALL_API_KEYS):
            raise Forbidden("only admins list every key", field="all")
        return await self._api_keys.list(None if query.every else query.actor.user_id)


class RevokeApiKeyHandler:
    def __init__(self, api_keys: ApiKeyRepository, authenticator: Authenticator, clock: Clock) -> None:
        self._api_keys = api_keys
        self._authenticator = authenticator
        self._clock = clock

    async def __call__(self, command: m.RevokeApiKeyCommand) -> ApiKey:
        actor, key = command.actor, await self._api_keys.get(command.key_id)
        if key is None or (key.owner_id != actor.user_id and not actor.can(Permission.MANAGE_ALL_API_KEYS)):
            raise NotFound(f"no API key {command.key_id!r}", field="key_id")  # others' keys are not disclosed
        revoked = key.revoke(self._clock.now())
        await self._api_keys.save(revoked)
        self._authenticator.forget_key(key.key_id)
        return revoked


class RefuseWhileAuthenticationIsOff:
    """Every identity handler, when the service runs without authentication: there is nobody to be."""

    def __init__(self, message_type: type) -> None:
        self._name = message_type.__name__

    async def __call__(self, message: object) -> None:
        raise AuthenticationOff(f"authentication is off on this service (AUTH_JWT_SECRET is not set): {self._name} "
                                "has nothing to act on")


