"""Users, API keys, the first admin and the authenticator, through the root built with fakes."""

import asyncio

import pytest

from src.common.errors import AuthenticationOff, Conflict, Forbidden, NotFound, Unauthenticated
from src.domain.identity import Role, WeakPassword
from src.features.identity import messages as m
from tests.unit.identity.conftest import ADMIN_PASSWORD, SECRET, IdentityWorld
from tests.world import World

PASSWORD = "a long secret phrase"


async def new_user(world, name: str, role: Role):
    await world.send(m.CreateUserCommand(await world.admin(), name, PASSWORD, role))
    return (await world.users.get_by_name(name)).principal()


# --- users ------------------------------------------------------------------------------------------


async def test_an_admin_creates_users_with_a_role_and_the_password_is_kept_only_hashed(world):
    created = await world.send(m.CreateUserCommand(await world.admin(), "Dave", PASSWORD, Role.TRADER))
    assert (created.username, created.role) == ("dave", Role.TRADER)  # usernames are lowercase
    assert PASSWORD not in created.password_hash


async def test_a_taken_username_is_a_conflict(world):
    await new_user(world, "erin", Role.VIEWER)
    with pytest.raises(Conflict):
        await world.send(m.CreateUserCommand(await world.admin(), "erin", PASSWORD, Role.VIEWER))


async def test_a_weak_password_is_refused_before_anything_is_stored(world):
    with pytest.raises(WeakPassword):
        await world.send(m.CreateUserCommand(await world.admin(), "frank", "short", Role.VIEWER))
    assert await world.users.get_by_name("frank") is None


async def test_the_last_admin_cannot_be_demoted_or_disabled(world):
    admin = await world.admin()
    with pytest.raises(Conflict, match="no enabled admin"):
        await world.send(m.UpdateUserCommand(admin, "admin", role=Role.VIEWER))
    with pytest.raises(Conflict):
        await world.send(m.UpdateUserCommand(admin, "admin", disabled=True))
    await new_user(world, "grace", Role.ADMIN)
    demoted = await world.send(m.UpdateUserCommand(admin, "admin", role=Role.VIEWER))
    assert demoted.role is Role.VIEWER


async def test_updating_an_unknown_user_is_404(world):
    with pytest.raises(NotFound):
        await world.send(m.UpdateUserCommand(await world.admin(), "nobody", role=Role.VIEWER))


async def test_registration_is_closed_by_default_and_makes_viewers_when_open():
    closed = IdentityWorld(auth_jwt_secret=SECRET)
    with pytest.raises(Forbidden, match="closed"):
        await closed.send(m.RegisterUserCommand("henry", PASSWORD))
    open_ = IdentityWorld(auth_jwt_secret=SECRET, auth_open_registration=True)
    registered = await open_.send(m.RegisterUserCommand("henry", PASSWORD))
    assert registered.role is Role.VIEWER


# --- the first admin ---------------------------------------------------------------------------------


async def test_the_first_start_makes_an_admin_with_a_one_time_password_shown_once_never_logged(captured_logs):
    world = IdentityWorld(auth_jwt_secret=SECRET)
    await world.start_identity()
    await world.start_identity()  # a restart: there are users now, nothing more is made or shown
    [shown] = world.console.shown
    password = shown.split("password: ")[1].split()[0]
    assert len(password) >= 32
    assert await world.send(m.LoginCommand("admin", password))
    assert password not in str(captured_logs.events)
    assert any(e.get("event") == "first_admin_created" for e in captured_logs.events)


async def test_admin_password_sets_the_first_admins_password_and_nothing_is_shown(world):
    assert world.console.shown == []
    assert await world.send(m.LoginCommand("admin", ADMIN_PASSWORD))


async def test_a_weak_admin_password_stops_the_start_with_one_line():
    from src.common.settings import SettingsError

    with pytest.raises(SettingsError, match=r"^invalid setting ADMIN_PASSWORD: a password is 12 to 256"):
        IdentityWorld(auth_jwt_secret=SECRET, admin_password="admin")


async def test_workers_starting_together_make_one_admin():
    world = IdentityWorld(auth_jwt_secret=SECRET)
    [component] = [c for c in world.root.lifecycle.components if c.name == "first-admin"]
    await asyncio.gather(component.start(), component.start())
    assert await world.users.count() == 1 and len(world.console.shown) == 1


async def test_without_authentication_identity_commands_refuse_and_no_admin_is_made():
    world = World()
    assert not [c for c in world.root.lifecycle.components if c.name == "first-admin"]
    with pytest.raises(AuthenticationOff):
        await world.mediator.send(m.LoginCommand("admin", "whatever password"))


# --- API keys -----------------------------------------------------------------------------------------


async def test_a_key_is_shown_once_kept_as_a_digest_and_authenticates_as_its_owner(world):
    trader = await new_user(world, "ivan", Role.TRADER)
    created = await world.send(m.CreateApiKeyCommand(trader, "bot"))
    stored = world.api_keys.keys[created.key.key_id]
    assert created.plaintext.startswith("pq_") and created.plaintext.split("_")[2] not in stored.secret_digest
    principal = await world.root.core.authenticator.authenticate(created.plaintext)
    assert (principal.username, principal.role, principal.key_id) == ("ivan", Role.TRADER, stored.key_id)


async def test_a_key_role_is_no_higher_than_its_creators(world):
    viewer = await new_user(world, "judy", Role.VIEWER)
    with pytest.raises(Forbidden):
        await world.send(m.CreateApiKeyCommand(viewer, "bot", Role.ADMIN))
    created = await world.send(m.CreateApiKeyCommand(viewer, "bot"))
    assert created.key.role is Role.VIEWER


async def test_only_admins_create_keys_for_others_and_a_key_cannot_create_keys(world):
    viewer = await new_user(world, "kim", Role.VIEWER)
    with pytest.raises(Forbidden):
        await world.send(m.CreateApiKeyCommand(viewer, "bot", owner="admin"))
    for_kim = await world.send(m.CreateApiKeyCommand(await world.admin(), "kims bot", owner="kim"))
    assert (for_kim.key.owner_username, for_kim.key.role) == ("kim", Role.VIEWER)
    as_key = await world.root.core.authenticator.authenticate(for_kim.plaintext)
    with pytest.raises(Forbidden, match="log in"):
        await world.send(m.CreateApiKeyCommand(as_key, "another"))


async def test_a_revoked_key_stops_authenticating_at_once(world):
    owner = await new_user(world, "leo", Role.TRADER)
    created = await world.send(m.CreateApiKeyCommand(owner, "bot"))
    authenticator = world.root.core.authenticator
    await authenticator.authenticate(created.plaintext)  # cached now
    await world.send(m.RevokeApiKeyCommand(owner, created.key.key_id))
    with pytest.raises(Unauthenticated, match="revoked"):
        await authenticator.authenticate(created.plaintext)


async def test_others_keys_cannot_be_revoked_or_even_seen(world):
    owner, other = await new_user(world, "mia", Role.TRADER), await new_user(world, "ned", Role.TRADER)
    created = await world.send(m.CreateApiKeyCommand(owner, "bot"))
    with pytest.raises(NotFound):
        await world.send(m.RevokeApiKeyCommand(other, created.key.key_id))
    assert await world.send(m.ListApiKeysQuery(other)) == []
    with pytest.raises(Forbidden):
        await world.send(m.ListApiKeysQuery(other, every=True))
    assert [k.key_id for k in await world.send(m.ListApiKeysQuery(await world.admin(), every=True))] == [
        created.key.key_id]


async def test_demoting_or_disabling_the_owner_applies_to_its_keys_at_once(world):
    owner = await new_user(world, "olga", Role.TRADER)
    created = await world.send(m.CreateApiKeyCommand(owner, "bot"))
    authenticator = world.root.core.authenticator
    assert (await authenticator.authenticate(created.plaintext)).role is Role.TRADER
    await world.send(m.UpdateUserCommand(await world.admin(), "olga", role=Role.VIEWER))
    assert (await authenticator.authenticate(created.plaintext)).role is Role.VIEWER
    await world.send(m.UpdateUserCommand(await world.admin(), "olga", disabled=True))
    with pytest.raises(Unauthenticated, match="disabled"):
        await authenticator.authenticate(created.plaintext)


async def test_last_used_time_is_recorded_at_most_once_a_minute(world):
    owner = await new_user(world, "pete", Role.VIEWER)
    created = await world.send(m.CreateApiKeyCommand(owner, "bot"))
    authenticator = world.root.core.authenticator
    await authenticator.authenticate(created.plaintext)
    await asyncio.sleep(0)
    first = world.api_keys.keys[created.key.key_id].last_used_at
    assert first == world.clock.now()
    world.clock.advance(5)
    await authenticator.authenticate(created.plaintext)
    await asyncio.sleep(0)
    assert world.api_keys.keys[created.key.key_id].last_used_at == first
    world.clock.advance(60)
    await authenticator.authenticate(created.plaintext)
    await asyncio.sleep(0)
    assert world.api_keys.keys[created.key.key_id].last_used_at == world.clock.now()


@pytest.mark.parametrize("credential", ["pq_0123456789abcdef_" + "x" * 43, "pq_garbage", "not-a-jwt", "a.b.c"])
async def test_unknown_or_malformed_credentials_are_refused(world, credential):
    with pytest.raises(Unauthenticated):
        await world.root.core.authenticator.authenticate(credential)


async def test_access_tokens_are_verified_once_then_served_from_memory_until_they_expire(world, monkeypatch):
    pair = await world.send(m.LoginCommand("admin", ADMIN_PASSWORD))
    tokens = world.root.core.access_tokens
    calls = []
    verify = tokens.verify
    monkeypatch.setattr(tokens, "verify", lambda token, now: calls.append(now) or verify(token, now))
    authenticator = world.root.core.authenticator
    for _ in range(5):
        assert (await authenticator.authenticate(pair.access.token)).username == "admin"
    assert len(calls) == 1  # no store lookup, and the signature checked once
    world.clock.advance(3600)
    with pytest.raises(Unauthenticated, match="expired"):
        await authenticator.authenticate(pair.access.token)
