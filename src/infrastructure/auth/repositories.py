"""Users, API keys and refresh tokens in MongoDB (`users`, `api_keys`, `refresh_tokens`). Passwords are
kept as Argon2 hashes, API keys and refresh tokens as digests: nothing stored lets anyone sign in."""

from dataclasses import asdict
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from src.common.errors import Conflict
from src.domain.identity import ApiKey, RefreshToken, Role, User
from src.infrastructure.mongo.connection import translate_errors


class MongoUserRepository:
    def __init__(self, database: AsyncDatabase[dict[str, Any]]) -> None:
        self._users = database["users"]

    @translate_errors
    async def ensure_indexes(self) -> None:
        await self._users.create_index([("username", ASCENDING)], name="username", unique=True)

    @translate_errors
    async def get(self, user_id: str) -> User | None:
        return _user(await self._users.find_one({"_id": user_id}))

    @translate_errors
    async def get_by_name(self, username: str) -> User | None:
        return _user(await self._users.find_one({"username": username}))

    @translate_errors
    async def add(self, user: User) -> None:
        try:
            await self._users.insert_one(_doc(asdict(user), "user_id"))
        except DuplicateKeyError:
            raise Conflict(f"the username {user.username!r} is taken", field="username") from None

    @translate_errors
    async def save(self, user: User) -> None:
        await self._users.replace_one({"_id": user.user_id}, _doc(asdict(user), "user_id"), upsert=True)

    @translate_errors
    async def list(self) -> list[User]:
        return [u for d in await self._users.find({}).sort("username", ASCENDING).to_list() if (u := _user(d))]

    @translate_errors
    async def count(self) -> int:
        return int(await self._users.count_documents({}))


class MongoApiKeyRepository:
    def __init__(self, database: AsyncDatabase[dict[str, Any]]) -> None:
        self._keys = database["api_keys"]

    @translate_errors
    async def ensure_indexes(self) -> None:
        await self._keys.create_index([("owner_id", ASCENDING), ("created_at", DESCENDING)], name="owner_created")

    @translate_errors
    async def get(self, key_id: str) -> ApiKey | None:
        return _key(await self._keys.find_one({"_id": key_id}))

    @translate_errors
    async def add(self, key: ApiKey) -> None:
        await self._keys.insert_one(_doc(asdict(key), "key_id"))

    @translate_errors
    async def save(self, key: ApiKey) -> None:
        await self._keys.replace_one({"_id": key.key_id}, _doc(asdict(key), "key_id"), upsert=True)

    @translate_errors
    async def list(self, owner_id: str | None = None) -> list[ApiKey]:
        where = {} if owner_id is None else {"owner_id": owner_id}
        docs = await self._keys.find(where).sort("created_at", DESCENDING).to_list()
        return [k for d in docs if (k := _key(d))]

    @translate_errors
    async def touch(self, key_id: str, used_at: float) -> None:
        await self._keys.update_one({"_id": key_id}, {"$set": {"last_used_at": used_at}})


class MongoRefreshTokenRepository:
    def __init__(self, database: AsyncDatabase[dict[str, Any]]) -> None:
        self._tokens = database["refresh_tokens"]

    @translate_errors
    async def ensure_indexes(self) -> None:
        await self._tokens.create_index([("family_id", ASCENDING)], name="family")
        await self._tokens.create_index([("user_id", ASCENDING)], name="user")

    @translate_errors
    async def add(self, token: RefreshToken) -> None:
        await self._tokens.insert_one(_doc(asdict(token), "token_digest"))

    @translate_errors
    async def get(self, token_digest: str) -> RefreshToken | None:
        doc = await self._tokens.find_one({"_id": token_digest})
        return None if doc is None else RefreshToken(**_fields(doc, "token_digest"))

    @translate_errors
    async def mark_used(self, token_digest: str, used_at: float) -> bool:
        result = await self._tokens.update_one({"_id": token_digest, "used_at": None, "revoked_at": None},
                                               {"$set": {"used_at": used_at}})
        return result.modified_count == 1

    @translate_errors
    async def revoke_family(self, family_id: str, revoked_at: float) -> None:
        await self._tokens.update_many({"family_id": family_id, "revoked_at": None},
                                       {"$set": {"revoked_at": revoked_at}})

    @translate_errors
    async def revoke_user(self, user_id: str, revoked_at: float, *, keep_family: str | None = None) -> None:
        kept = {} if keep_family is None else {"family_id": {"$ne": keep_family}}
        await self._tokens.update_many({"user_id": user_id, "revoked_at": None, **kept},
                                       {"$set": {"revoked_at": revoked_at}})


def _doc(fields: dict[str, Any], id_field: str) -> dict[str, Any]:
    return {"_id": fields.pop(id_field), **{k: str(v) if isinstance(v, Role) else v for k, v in fields.items()}}


def _fields(doc: dict[str, Any], id_field: str) -> dict[str, Any]:
    fields = {k: v for k, v in doc.items() if k != "_id"}
    fields[id_field] = doc["_id"]
    return fields


def _user(doc: dict[str, Any] | None) -> User | None:
    if doc is None:
        return None
    fields = _fields(doc, "user_id")
    return User(**{**fields, "role": Role(fields["role"])})


def _key(doc: dict[str, Any] | None) -> ApiKey | None:
    if doc is None:
        return None
    fields = _fields(doc, "key_id")
    return ApiKey(**{**fields, "role": Role(fields["role"])})
