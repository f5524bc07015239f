"""Creating users (by an admin, by open registration, the first admin at start): the username and
password rules are checked before the password is hashed; a taken username is a Conflict."""

from src.common.ports import Clock, PasswordHasher, Secrets, UserRepository
from src.domain.identity import Role, User, check_password, check_username


class Accounts:
    def __init__(self, users: UserRepository, passwords: PasswordHasher, secrets: Secrets, clock: Clock) -> None:
        self._users = users
        self._passwords = passwords
        self._secrets = secrets
        self._clock = clock

    async def create(self, username: str, password: str, role: Role) -> User:
        username = check_username(username.strip().lower())
        check_password(password, username)
        now = self._clock.now()
        user = User(self._secrets.new_id(), username, role, await self._passwords.hash(password), now, now)
        await self._users.add(user)
        return user

    async def new_password_hash(self, user: User, password: str) -> str:
        check_password(password, user.username)
        return await self._passwords.hash(password)

    async def check_login(self, username: str, password: str) -> User | None:
        """The user, when the password is theirs and they are enabled. An unknown user costs a hash too,
        so that response times do not tell which usernames exist."""
        user = await self._users.get_by_name(username.strip().lower())
        if user is None:
            await self._passwords.hash(password)
            return None
        matches = await self._passwords.verify(user.password_hash, password)
        return user if matches and not user.disabled else None
