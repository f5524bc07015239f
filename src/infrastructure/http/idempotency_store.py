"""Where idempotency records live: in Redis (shared by every worker) or in process.

A first request *claims* its key: the record is written with a random token and a short lease
(`lock_ttl_s`). Its holder renews the lease while the request runs, and stores the response (or releases
the key) at the end. Every change after the claim — renew, complete, release — is made only if the record
still carries the holder's token (a compare-and-set in one Redis script): a holder whose lease lapsed and
whose key was claimed again (a stale holder) can never overwrite the new holder's record, renew its lease
or delete it. Each of these calls says whether it took effect, so that the holder learns it lost the claim.
"""

import base64
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

TOKEN_LENGTH = 32  # hex characters, at the start of every stored value


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


@dataclass(frozen=True, slots=True)
class Record:
    fingerprint: str
    response: StoredResponse | None  # None while the first request still runs


class StoreFailure(Exception):
    """The idempotency store could not be reached; the request is refused (503) rather than run unprotected."""


class IdempotencyStore(Protocol):
    async def begin(self, key: str, fingerprint: str, lock_ttl_s: float) -> tuple[str | None, Record | None]:
        """Atomically claim `key`: `(token, None)` when claimed, `(None, record)` when it exists."""
        ...

    async def renew(self, key: str, token: str, lock_ttl_s: float) -> bool:
        """Extend the holder's lease; False when the key is no longer held with `token`."""
        ...

    async def complete(self, key: str, token: str, record: Record, ttl_s: float) -> bool:
        """Store the response if `token` still holds the key; whether it was stored."""
        ...

    async def release(self, key: str, token: str) -> bool: ...


def new_token() -> str:
    return secrets.token_hex(TOKEN_LENGTH // 2)


class InProcessIdempotencyStore:
    def __init__(self, *, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: dict[str, tuple[float, str, Record]] = {}  # key → (expires_at, token, record)
        self._max_entries = max_entries
        self._clock = clock

    def _live(self, key: str, now: float) -> tuple[float, str, Record] | None:
        entry = self._entries.get(key)
        if entry is not None and entry[0] <= now:
            del self._entries[key]
            return None
        return entry

    def _held(self, key: str, token: str) -> Record | None:
        entry = self._live(key, self._clock())
        return entry[2] if entry is not None and entry[1] == token else None

    async def begin(self, key: str, fingerprint: str, lock_ttl_s: float) -> tuple[str | None, Record | None]:
        now = self._clock()
        entry = self._live(key, now)
        if entry is not None:
            return None, entry[2]
        if len(self._entries) >= self._max_entries:
            self._evict(now)
        token = new_token()
        self._entries[key] = (now + lock_ttl_s, token, Record(fingerprint, None))
        return token, None

    async def renew(self, key: str, token: str, lock_ttl_s: float) -> bool:
        record = self._held(key, token)
        if record is not None:
            self._entries[key] = (self._clock() + lock_ttl_s, token, record)
        return record is not None

    async def complete(self, key: str, token: str, record: Record, ttl_s: float) -> bool:
        held = self._held(key, token) is not None
        if held:
            self._entries[key] = (self._clock() + ttl_s, token, record)
        return held

    async def release(self, key: str, token: str) -> bool:
        held = self._held(key, token) is not None
        if held:
            del self._entries[key]
        return held

    def _evict(self, now: float) -> None:
        expired = [k for k, (expires, _, _) in self._entries.items() if expires <= now]
        for k in expired or list(self._entries)[: len(self._entries) // 10 or 1]:
            del self._entries[k]


# KEYS[1]; ARGV: token, operation (set | renew | del), value, ttl ms. Acts only while the token holds the key.
_IF_HELD = f"""
local value = redis.call('GET', KEYS[1])
if not value or string.sub(value, 1, {TOKEN_LENGTH}) ~= ARGV[1] then return 0 end
if ARGV[2] == 'del' then return redis.call('DEL', KEYS[1]) end
if ARGV[2] == 'renew' then return redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
return 1
"""


def encode(token: str, record: Record) -> bytes:
    """The token, then the record as JSON (the script compares the token without decoding the rest)."""
    response: dict[str, Any] | None = None
    if record.response is not None:
        r = record.response
        response = {
            "s": r.status,
            "h": [[n.decode("latin-1"), v.decode("latin-1")] for n, v in r.headers],
            "b": base64.b64encode(r.body).decode("ascii"),
        }
    return token.encode("ascii") + orjson.dumps({"f": record.fingerprint, "r": response})


def decode(raw: bytes) -> tuple[str, Record]:
    token, data = raw[:TOKEN_LENGTH].decode("ascii"), orjson.loads(raw[TOKEN_LENGTH:])
    r = data["r"]
    response = None
    if r is not None:
        headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in r["h"]]
        response = StoredResponse(r["s"], headers, base64.b64decode(r["b"]))
    return token, Record(data["f"], response)


class RedisIdempotencyStore:
    """SET NX claims the key; renew, complete and release run one script each that checks the token."""

    def __init__(self, redis: Redis, *, prefix: str = "pq:edge:") -> None:
        self._redis = redis
        self._prefix = prefix + "idem:"
        self._if_held: Any = redis.register_script(_IF_HELD)

    async def begin(self, key: str, fingerprint: str, lock_ttl_s: float) -> tuple[str | None, Record | None]:
        token = new_token()
        claim = encode(token, Record(fingerprint, None))
        try:
            for _ in range(3):  # the key may expire between SET NX and GET
                if await self._redis.set(self._prefix + key, claim, nx=True, px=_ms(lock_ttl_s)):
                    return token, None
                raw = await self._redis.get(self._prefix + key)
                if raw is not None:
                    return None, decode(raw if isinstance(raw, bytes) else raw.encode())[1]
        except (RedisError, OSError, TimeoutError) as error:
            raise StoreFailure(str(error)) from error
        raise StoreFailure("idempotency key kept changing")

    async def renew(self, key: str, token: str, lock_ttl_s: float) -> bool:
        return await self._if_held_do(key, token, "renew", b"", lock_ttl_s)

    async def complete(self, key: str, token: str, record: Record, ttl_s: float) -> bool:
        return await self._if_held_do(key, token, "set", encode(token, record), ttl_s)

    async def release(self, key: str, token: str) -> bool:
        return await self._if_held_do(key, token, "del", b"", 0)

    async def _if_held_do(self, key: str, token: str, operation: str, value: bytes, ttl_s: float) -> bool:
        try:
            done = await self._if_held(keys=[self._prefix + key], args=[token, operation, value, _ms(ttl_s)])
        except (RedisError, OSError, TimeoutError) as error:
            raise StoreFailure(str(error)) from error
        return bool(done)


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))
