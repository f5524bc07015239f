"""The identity repositories on a real (embedded) MongoDB: unique usernames, the atomic one-time use of a
refresh token, family and user revocation, API keys and their last-used time."""

import asyncio

import pytest

from src.common.errors import Conflict
from src.domain.identity import ApiKey, RefreshToken, Role, User
from src.infrastructure.auth.repositories import (
    MongoApiKeyRepository,
    MongoRefreshTokenRepository,
    MongoUserRepository,
)

pytestmark = pytest.mark.integration


async def test_users_round_trip_and_usernames_are_unique(mongo_db):
    users = MongoUserRepository(mongo_db)
    await users.ensure_indexes()
    alice = User("u1", "alice", Role.TRADER, "$argon2id$...", 1.0, 2.0, disabled=True)
    await users.add(alice)
    assert await users.get("u1") == alice and await users.get_by_name("alice") == alice
    with pytest.raises(Conflict):
        await users.add(User("u2", "alice", Role.VIEWER, "h", 1.0, 1.0))
    await users.save(alice.changed(5.0, role=Role.ADMIN, disabled=False))
    assert (await users.get("u1")).role is Role.ADMIN
    assert await users.count() == 1 and [u.username for u in await users.list()] == ["alice"]


async def test_a_refresh_token_is_marked_used_once_even_when_raced(mongo_db):
    tokens = MongoRefreshTokenRepository(mongo_db)
    await tokens.ensure_indexes()
    token = RefreshToken.first("digest-1", "family-1", "u1", 100.0, 60.0)
    await tokens.add(token)
    results = await asyncio.gather(*(tokens.mark_used("digest-1", 101.0) for _ in range(8)))
    assert results.count(True) == 1
    assert (await tokens.get("digest-1")).used_at == 101.0


async def test_revoking_a_family_or_a_user_marks_every_token_of_it(mongo_db):
    tokens = MongoRefreshTokenRepository(mongo_db)
    for digest, family, user in [("a", "f1", "u1"), ("b", "f1", "u1"), ("c", "f2", "u1"), ("d", "f3", "u2")]:
        await tokens.add(RefreshToken.first(digest, family, user, 100.0, 60.0))
    await tokens.revoke_family("f1", 110.0)
    assert [(await tokens.get(d)).revoked_at for d in "abcd"] == [110.0, 110.0, None, None]
    assert not await tokens.mark_used("a", 111.0)  # a revoked token is never used
    await tokens.add(RefreshToken.first("e", "f4", "u1", 100.0, 60.0))
    await tokens.revoke_user("u1", 120.0, keep_family="f4")
    assert [(await tokens.get(d)).revoked_at for d in "abcde"] == [110.0, 110.0, 120.0, None, None]
    await tokens.revoke_user("u1", 130.0)
    assert [(await tokens.get(d)).revoked_at for d in "abcde"] == [110.0, 110.0, 120.0, None, 130.0]


async def test_api_keys_round_trip_list_newest_first_and_record_their_last_use(mongo_db):
    keys = MongoApiKeyRepository(mongo_db)
    await keys.ensure_indexes()
    older = ApiKey("00000000000000a1", "u1", "alice", "old bot", Role.VIEWER, "d1", 1.0)
    newer = ApiKey("00000000000000a2", "u1", "alice", "new bot", Role.TRADER, "d2", 2.0)
    other = ApiKey("00000000000000b1", "u2", "bob", "bob bot", Role.VIEWER, "d3", 3.0)
    for key in (older, newer, other):
        await keys.add(key)
    assert [k.key_id for k in await keys.list("u1")] == [newer.key_id, older.key_id]
    assert len(await keys.list()) == 3
    await keys.touch(older.key_id, 50.0)
    await keys.save((await keys.get(newer.key_id)).revoke(60.0))
    assert (await keys.get(older.key_id)).last_used_at == 50.0
    assert (await keys.get(newer.key_id)).revoked_at == 60.0
