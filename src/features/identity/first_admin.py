"""The first admin, made on the first start with authentication and no user (as Grafana does): with the
password in ADMIN_PASSWORD, or a one-time password shown once on the operator's console (standard error,
never the logs). Several workers starting together make one: the others find the username taken."""

import structlog

from src.common.errors import Conflict
from src.common.ports import OperatorConsole, Secrets, UserRepository
from src.domain.identity import Role
from src.features.identity.accounts import Accounts

log = structlog.get_logger("auth")


class FirstAdmin:
    def __init__(self, accounts: Accounts, users: UserRepository, secrets: Secrets, console: OperatorConsole, *,
                 username: str, password: str | None) -> None:
        self._accounts = accounts
        self._users = users
        self._secrets = secrets
        self._console = console
        self._username = username
        self._password = password

    async def ensure(self) -> None:
        if await self._users.count() > 0:
            return
        password = self._password or self._secrets.new_secret()
        try:
            await self._accounts.create(self._username, password, Role.ADMIN)
        except Conflict:
            return  # another worker made it a moment ago
        log.info("first_admin_created", username=self._username,
                 password="from ADMIN_PASSWORD" if self._password else "one-time, shown once on standard error")
        if self._password is None:
            self._console.show(
                f"\nPocketQuant created the first admin.\n  username: {self._username}\n  password: {password}\n"
                "This password is shown once. Log in (POST /api/v1/auth/login) and change it "
                "(POST /api/v1/auth/password).\n"
            )
