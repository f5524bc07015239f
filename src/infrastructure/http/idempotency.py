"""Idempotency for POST requests with an `Idempotency-Key` (IETF httpapi idempotency-key draft).

The first request runs; its response (status, headers, body) is stored for `ttl_s`, scoped to key +
method + path + client. A repeat gets the stored response byte for byte plus `Idempotent-Replayed: true`.
The same key with another body → 422; while the first still runs → 409; a malformed key → 400.
5xx responses are not stored: the key is released so a retry runs again.
"""

import base64
import hashlib
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from src.infrastructure.http.problems import problem_body, send_problem
from src.infrastructure.http.rate_limit import CLIENT_SCOPE_KEY
from src.infrastructure.observability.metrics import Metrics

log = structlog.get_logger("http.idempotency")
HEADER = b"idempotency-key"
REPLAYED = (b"idempotent-replayed", b"true")
MAX_KEY_LENGTH = 255
_TOKEN = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~:/=\-]{1,255}$")
_QUOTED = re.compile(r'^"([\x20\x21\x23-\x5b\x5d-\x7e]{1,255})"$')  # sf-string without escapes


def parse_idempotency_key(raw: bytes) -> str | None:
    """The key, or None when it is empty, longer than 255 characters or not an sf-string/token."""
    try:
        text = raw.decode("ascii").strip()
    except UnicodeDecodeError:
        return None
    quoted = _QUOTED.match(text)
    if quoted:
        return quoted.group(1)
    return text if _TOKEN.match(text) else None


def scoped_key(key: str, method: str, path: str, client: str) -> str:
    return hashlib.sha256(f"{client}\n{method}\n{path}\n{key}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


@dataclass(frozen=True, slots=True)
class Record:
    fingerprint: str
    response: StoredResponse | None  # None while the first request still runs


class IdempotencyStore(Protocol):
    async def begin(self, key: str, fingerprint: str, lock_ttl_s: float) -> tuple[str | None, Record | None]:
        """Atomically claim `key`: `(token, None)` when claimed, `(None, record)` when it exists."""
        ...

    async def complete(self, key: str, token: str, record: Record, ttl_s: float) -> None: ...

    async def release(self, key: str, token: str) -> None: ...


class StoreFailure(Exception):
    """The idempotency store could not be reached; the request is refused (503) rather than run unprotected."""


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

    async def begin(self, key: str, fingerprint: str, lock_ttl_s: float) -> tuple[str | None, Record | None]:
        now = self._clock()
        entry = self._live(key, now)
        if entry is not None:
            return None, entry[2]
        if len(self._entries) >= self._max_entries:
            self._evict(now)
        token = secrets.token_hex(8)
        self._entries[key] = (now + lock_ttl_s, token, Record(fingerprint, None))
        return token, None

    async def complete(self, key: str, token: str, record: Record, ttl_s: float) -> None:
        entry = self._entries.get(key)
        if entry is not None and entry[1] == token:
            self._entries[key] = (self._clock() + ttl_s, token, record)

    async def release(self, key: str, token: str) -> None:
        entry = self._entries.get(key)
        if entry is not None and entry[1] == token:
            del self._entries[key]

    def _evict(self, now: float) -> None:
        expired = [k for k, (expires, _, _) in self._entries.items() if expires <= now]
        for k in expired or list(self._entries)[: len(self._entries) // 10 or 1]:
            del self._entries[k]


# KEYS[1]; ARGV: expected value, new value ('' deletes), ttl ms. Changes the key only if we still own it.
_COMPARE_AND_SET = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  if ARGV[2] == '' then return redis.call('DEL', KEYS[1]) end
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""


def _encode(token: str, record: Record) -> bytes:
    response: dict[str, Any] | None = None
    if record.response is not None:
        r = record.response
        response = {
            "s": r.status,
            "h": [[n.decode("latin-1"), v.decode("latin-1")] for n, v in r.headers],
            "b": base64.b64encode(r.body).decode("ascii"),
        }
    return orjson.dumps({"t": token, "f": record.fingerprint, "r": response})


def _decode(raw: bytes) -> tuple[str, Record]:
    data = orjson.loads(raw)
    r = data["r"]
    response = None
    if r is not None:
        headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in r["h"]]
        response = StoredResponse(r["s"], headers, base64.b64decode(r["b"]))
    return data["t"], Record(data["f"], response)


class RedisIdempotencyStore:
    """SET NX claims the key with a token; completion and release change it only while we own it."""

    def __init__(self, redis: Redis, *, prefix: str = "pq:edge:") -> None:
        self._redis = redis
        self._prefix = prefix + "idem:"
        self._compare_and_set: Any = redis.register_script(_COMPARE_AND_SET)
        self._claims: dict[str, bytes] = {}  # key → the value we wrote when claiming it

    async def begin(self, key: str, fingerprint: str, lock_ttl_s: float) -> tuple[str | None, Record | None]:
        token = secrets.token_hex(8)
        claim = _encode(token, Record(fingerprint, None))
        try:
            for _ in range(3):  # the key may expire between SET NX and GET
                if await self._redis.set(self._prefix + key, claim, nx=True, px=int(lock_ttl_s * 1000)):
                    self._claims[key] = claim
                    return token, None
                raw = await self._redis.get(self._prefix + key)
                if raw is not None:
                    return None, _decode(raw if isinstance(raw, bytes) else raw.encode())[1]
        except (RedisError, OSError, TimeoutError) as error:
            raise StoreFailure(str(error)) from error
        raise StoreFailure("idempotency key kept changing")

    async def complete(self, key: str, token: str, record: Record, ttl_s: float) -> None:
        claim = self._claims.pop(key, None)
        if claim is not None:
            await self._swap(key, claim, _encode(token, record), ttl_s)

    async def release(self, key: str, token: str) -> None:
        claim = self._claims.pop(key, None)
        if claim is not None:
            await self._swap(key, claim, b"", 0)

    async def _swap(self, key: str, expected: bytes, new: bytes, ttl_s: float) -> None:
        try:
            await self._compare_and_set(keys=[self._prefix + key], args=[expected, new, int(ttl_s * 1000)])
        except (RedisError, OSError, TimeoutError):
            log.warning("idempotency store failed to record the outcome; the claim expires on its own", exc_info=True)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None when it is longer than `limit`."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


class IdempotencyMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        store: IdempotencyStore,
        metrics: Metrics,
        *,
        ttl_s: float,
        lock_ttl_s: float,
        max_body_bytes: int,
    ) -> None:
        self.app = app
        self.store = store
        self.metrics = metrics
        self.ttl_s = ttl_s
        self.lock_ttl_s = lock_ttl_s
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        raw_key = next((v for n, v in scope["headers"] if n == HEADER), None)
        if raw_key is None:
            await self.app(scope, receive, send)
            return
        await self._idempotent(scope, receive, send, raw_key)

    async def _idempotent(self, scope: Scope, receive: Receive, send: Send, raw_key: bytes) -> None:
        path = scope["path"]
        key = parse_idempotency_key(raw_key)
        if key is None:
            detail = f"Idempotency-Key must be an sf-string or token of 1 to {MAX_KEY_LENGTH} characters"
            await self._problem(send, 400, "invalid-idempotency-key", "Invalid Idempotency-Key", detail, path)
            return
        body = await _read_body(receive, self.max_body_bytes)
        if body is None:
            detail = f"bodies of idempotent requests are limited to {self.max_body_bytes} bytes"
            await self._problem(send, 413, "request-too-large", "Content Too Large", detail, path)
            return
        fingerprint = hashlib.sha256(body).hexdigest()
        client = scope.get(CLIENT_SCOPE_KEY) or (scope["client"][0] if scope.get("client") else "")
        store_key = scoped_key(key, scope["method"], path, client)
        try:
            token, existing = await self.store.begin(store_key, fingerprint, self.lock_ttl_s)
        except StoreFailure as error:
            log.warning("idempotency store unavailable", error=str(error))
            await self._problem(
                send, 503, "idempotency-store-unavailable", "Service Unavailable",
                "the idempotency store is unavailable; retry with the same key", path, retry_after=b"1",
            )
            return
        if existing is not None:
            await self._answer_repeat(send, existing, fingerprint, path)
            return
        assert token is not None
        await self._run_first(scope, receive, send, body, store_key, token, fingerprint)

    async def _answer_repeat(self, send: Send, existing: Record, fingerprint: str, path: str) -> None:
        if existing.fingerprint != fingerprint:
            await self._problem(
                send, 422, "idempotency-key-reused", "Idempotency-Key reused",
                "this Idempotency-Key was used with a different request body", path,
            )
        elif existing.response is None:
            await self._problem(
                send, 409, "idempotency-key-in-use", "Request in progress",
                "a request with this Idempotency-Key is still being processed", path, retry_after=b"1",
            )
        else:
            self.metrics.idempotent_replays.inc()
            stored = existing.response
            await send(
                {"type": "http.response.start", "status": stored.status, "headers": [*stored.headers, REPLAYED]}
            )
            await send({"type": "http.response.body", "body": stored.body})

    async def _run_first(
        self, scope: Scope, receive: Receive, send: Send, body: bytes, key: str, token: str, fingerprint: str
    ) -> None:
        body_sent = False
        status = 0
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []
        complete = False

        async def replay_receive() -> Message:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def capture_send(message: Message) -> None:
            nonlocal status, headers, complete
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                complete = not message.get("more_body", False)
            await send(message)

        try:
            await self.app(scope, replay_receive, capture_send)
        except BaseException:
            await self.store.release(key, token)
            raise
        if complete and 0 < status < 500:
            record = Record(fingerprint, StoredResponse(status, headers, b"".join(chunks)))
            await self.store.complete(key, token, record, self.ttl_s)
        else:
            await self.store.release(key, token)

    @staticmethod
    async def _problem(
        send: Send, status: int, slug: str, title: str, detail: str, path: str, *, retry_after: bytes | None = None
    ) -> None:
        body = problem_body(status, slug=slug, title=title, detail=detail, instance=path)
        await send_problem(send, status, body, [(b"retry-after", retry_after)] if retry_after else ())
