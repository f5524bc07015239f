"""Login, refresh rotation with reuse detection, logout, password changes, through the Mediator."""

import pytest

from src.common.errors import Unauthenticated
from src.domain.identity import Role
from src.features.identity import messages as m
from tests.unit.identity.conftest import ADMIN_PASSWORD


async def login(world, username="admin", password=ADMIN_PASSWORD):
    return await world.send(m.LoginCommand(username, password))


async def test_login_gives_an_access_token_carrying_the_user_and_a_refresh_token(world):
    pair = await login(world)
    verified = world.root.core.access_tokens.verify(pair.access.token, world.clock.now())
    assert (verified.principal.username, verified.principal.role) == ("admin", Role.ADMIN)
    assert pair.access.expires_at - world.clock.now() == 3600
    assert len(pair.refresh_token) >= 40


@pytest.mark.parametrize(("username", "password"), [("admin", "wrong password!!"), ("nobody", ADMIN_PASSWORD)])
async def test_a_wrong_password_or_unknown_user_is_the_same_401(world, username, password):
    with pytest.raises(Unauthenticated, match="wrong username or password"):
        await login(world, username, password)


async def test_a_disabled_user_cannot_log_in(world):
    await world.send(m.CreateUserCommand(await world.admin(), "bob", "a long secret phrase", Role.VIEWER))
    await world.send(m.UpdateUserCommand(await world.admin(), "bob", disabled=True))
    with pytest.raises(Unauthenticated):
        await login(world, "bob", "a long secret phrase")


async def test_refresh_rotates_the_token_and_the_old_one_stops_working(world):
    first = await login(world)
    world.clock.advance(60)
    second = await world.send(m.RefreshTokensCommand(first.refresh_token))
    assert second.refresh_token != first.refresh_token
    assert second.access.expires_at == world.clock.now() + 3600
    third = await world.send(m.RefreshTokensCommand(second.refresh_token))
    assert third.refresh_token not in (first.refresh_token, second.refresh_token)


async def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(world):
    stolen = await login(world)
    rotated = await world.send(m.RefreshTokensCommand(stolen.refresh_token))  # the victim refreshes
    with pytest.raises(Unauthenticated, match="used already"):
        await world.send(m.RefreshTokensCommand(stolen.refresh_token))  # the thief replays the old one
    with pytest.raises(Unauthenticated, match="revoked"):
        await world.send(m.RefreshTokensCommand(rotated.refresh_token))  # and the victim is logged out too
    assert all(t.revoked_at is not None for t in world.refresh_tokens.tokens.values())


async def test_a_reuse_revokes_only_its_own_family(world):
    laptop, phone = await login(world), await login(world)
    await world.send(m.RefreshTokensCommand(laptop.refresh_token))
    with pytest.raises(Unauthenticated):
        await world.send(m.RefreshTokensCommand(laptop.refresh_token))
    assert await world.send(m.RefreshTokensCommand(phone.refresh_token))


async def test_an_expired_refresh_token_is_refused(world):
    pair = await login(world)
    world.clock.advance(30 * 86_400)
    with pytest.raises(Unauthenticated, match="expired"):
        await world.send(m.RefreshTokensCommand(pair.refresh_token))


async def test_an_unknown_refresh_token_is_refused(world):
    with pytest.raises(Unauthenticated, match="unknown"):
        await world.send(m.RefreshTokensCommand("x" * 43))


async def test_logout_revokes_the_family_of_the_token(world):
    pair = await login(world)
    rotated = await world.send(m.RefreshTokensCommand(pair.refresh_token))
    await world.send(m.LogoutCommand(rotated.refresh_token))
    with pytest.raises(Unauthenticated, match="revoked"):
        await world.send(m.RefreshTokensCommand(rotated.refresh_token))


def principal_of(world, pair):
    return world.root.core.access_tokens.verify(pair.access.token, world.clock.now()).principal


async def test_an_access_token_names_its_login_across_refreshes(world):
    laptop = await login(world)
    [laptop_family] = {t.family_id for t in world.refresh_tokens.tokens.values()}
    phone = await login(world)
    assert principal_of(world, laptop).session_id == laptop_family != principal_of(world, phone).session_id
    refreshed = await world.send(m.RefreshTokensCommand(laptop.refresh_token))
    assert principal_of(world, refreshed).session_id == laptop_family


async def test_changing_ones_password_ends_the_other_logins_keeps_this_one_and_the_new_password_works(world):
    this, other = await login(world), await login(world)
    await world.send(m.ChangePasswordCommand(principal_of(world, this), ADMIN_PASSWORD, "a brand new passphrase"))
    with pytest.raises(Unauthenticated, match="revoked"):
        await world.send(m.RefreshTokensCommand(other.refresh_token))
    assert await world.send(m.RefreshTokensCommand(this.refresh_token))
    with pytest.raises(Unauthenticated):
        await login(world)
    assert await login(world, password="a brand new passphrase")


async def test_changing_ones_password_without_a_login_ends_every_login(world):
    pair = await login(world)
    await world.send(m.ChangePasswordCommand(await world.admin(), ADMIN_PASSWORD, "a brand new passphrase"))
    with pytest.raises(Unauthenticated, match="revoked"):
        await world.send(m.RefreshTokensCommand(pair.refresh_token))


async def test_changing_the_password_needs_the_current_one(world):
    with pytest.raises(Unauthenticated, match="current password"):
        await world.send(m.ChangePasswordCommand(await world.admin(), "not my password", "a brand new passphrase"))


async def test_a_refresh_carries_the_role_the_user_has_now(world):
    admin = await world.admin()
    await world.send(m.CreateUserCommand(admin, "carol", "another long phrase", Role.TRADER))
    pair = await login(world, "carol", "another long phrase")
    await world.send(m.UpdateUserCommand(admin, "carol", role=Role.VIEWER))
    refreshed = await world.send(m.RefreshTokensCommand(pair.refresh_token))
    verified = world.root.core.access_tokens.verify(refreshed.access.token, world.clock.now())
    assert verified.principal.role is Role.VIEWER
