import pytest

from src.domain.identity import Principal
from tests.world import World

SECRET = "unit-test-signing-key-0123456789abcdef"
ADMIN_PASSWORD = "correct horse battery"


class IdentityWorld(World):
    async def start_identity(self) -> None:
        [first_admin] = [c for c in self.root.lifecycle.components if c.name == "first-admin"]
        assert first_admin.start is not None
        await first_admin.start()

    async def send(self, message):
        return await self.mediator.send(message)

    async def admin(self) -> Principal:
        return (await self.users.get_by_name("admin")).principal()


@pytest.fixture
async def world() -> IdentityWorld:
    w = IdentityWorld(auth_jwt_secret=SECRET, admin_password=ADMIN_PASSWORD)
    await w.start_identity()
    return w
