"""`CachingAuthenticator`: a credential (access token or API key) → the principal it stands for.

Access tokens are verified by signature (`AccessTokens`), never looked up; a token already verified is
remembered until it expires, so a client sending the same token on every request costs a dict lookup
(verifying an HS256 JWT costs about as much as serving a cached query). API keys are looked up by id and
their secret compared with the stored digest; what was looked up is kept `key_cache_s` seconds, so a key
revoked on another worker stops working there within that time (at once on the worker that revoked it).
When a key is used, its last-used time is written in the background, at most once per `touch_every_s`.
"""

import asyncio
import hmac

import structlog

from src.common.correlation import spawn_detached
from src.common.errors import Unauthenticated
from src.common.ports import AccessTokens, ApiKeyRepository, Clock, Secrets, UserRepository
from src.domain.identity import API_KEY_PREFIX, ApiKey, Principal, User, parse_api_key

log = structlog.get_logger("auth")
_UNKNOWN_KEY = "unknown API key"


class CachingAuthenticator:
    def __init__(self, tokens: AccessTokens, api_keys: ApiKeyRepository, users: UserRepository, secrets: Secrets,
                 clock: Clock, *, key_cache_s: float = 10.0, touch_every_s: float = 60.0,
                 max_entries: int = 10_000) -> None:
        self._tokens = tokens
        self._api_keys = api_keys
        self._users = users
        self._secrets = secrets
        self._clock = clock
        self._key_cache_s = key_cache_s
        self._touch_every_s = touch_every_s
        self._max_entries = max_entries
        self._verified: dict[str, tuple[Principal, float]] = {}  # token → (principal, expires at)
        self._keys: dict[str, tuple[ApiKey | None, User | None, float]] = {}  # key id → (key, owner, fetched at)
        self._touches: set[asyncio.Task[None]] = set()

    async def authenticate(self, credential: str) -> Principal:
        if credential.startswith(API_KEY_PREFIX):
            return await self._api_key(credential)
        return self._access_token(credential)

    def forget_key(self, key_id: str) -> None:
        self._keys.pop(key_id, None)

    def forget_owner(self, user_id: str) -> None:
        for key_id in [k for k, (_, owner, _) in self._keys.items() if owner is not None and owner.user_id == user_id]:
            del self._keys[key_id]

    def _access_token(self, token: str) -> Principal:
        now = self._clock.now()
        seen = self._verified.get(token)
        if seen is not None and now < seen[1]:
            return seen[0]
        verified = self._tokens.verify(token, now)  # raises Unauthenticated
        _bounded(self._verified, self._max_entries)[token] = (verified.principal, verified.expires_at)
        return verified.principal

    async def _api_key(self, credential: str) -> Principal:
        parsed = parse_api_key(credential)
        if parsed is None:
            raise Unauthenticated("malformed API key")
        key_id, secret = parsed
        now = self._clock.now()
        key, owner = await self._look_up(key_id, now)
        if key is None or not hmac.compare_digest(key.secret_digest, self._secrets.digest(secret)):
            raise Unauthenticated(_UNKNOWN_KEY)
        if key.revoked:
            raise Unauthenticated("this API key was revoked")
        if owner is None or owner.disabled:
            raise Unauthenticated("the owner of this API key is disabled")
        self._touch(key, owner, now)
        return key.principal(owner)

    async def _look_up(self, key_id: str, now: float) -> tuple[ApiKey | None, User | None]:
        cached = self._keys.get(key_id)
        if cached is not None and now - cached[2] < self._key_cache_s:
            return cached[0], cached[1]
        key = await self._api_keys.get(key_id)
        owner = await self._users.get(key.owner_id) if key is not None else None
        _bounded(self._keys, self._max_entries)[key_id] = (key, owner, now)  # unknown ids too: probing is cheap
        return key, owner

    def _touch(self, key: ApiKey, owner: User, now: float) -> None:
        if key.last_used_at is not None and now - key.last_used_at < self._touch_every_s:
            return
        fetched_at = self._keys[key.key_id][2]
        self._keys[key.key_id] = (key.used(now), owner, fetched_at)
        task = spawn_detached(self._write_touch(key.key_id, now), name="api-key-last-used")
        self._touches.add(task)
        task.add_done_callback(self._touches.discard)

    async def _write_touch(self, key_id: str, now: float) -> None:
        try:
            await self._api_keys.touch(key_id, now)
        except Exception as error:  # a missed last-used time must never fail a request
            log.warning("api_key_last_used_not_recorded", key_id=key_id, error=f"{type(error).__name__}: {error}")


def _bounded[V](entries: dict[str, V], max_entries: int) -> dict[str, V]:
    """The dict, with its oldest tenth dropped when it is full (insertion order)."""
    if len(entries) >= max_entries:
        for stale in list(entries)[: max(1, max_entries // 10)]:
            del entries[stale]
    return entries


