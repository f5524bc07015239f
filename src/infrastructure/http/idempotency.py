"""Idempotency for POST requests with an `Idempotency-Key` (IETF httpapi idempotency-key draft).

The first request runs; its response (status, headers, body) is stored for `ttl_s`, scoped to key +
method + path + caller (the principal when authenticated, else the client address). A repeat gets the
stored response byte for byte plus `Idempotent-Replayed: true`. The same key with another body → 422;
while the first still runs → 409; a malformed key → 400. 5xx responses are not stored: the key is released
so a retry runs again.

The first request holds its key on a lease (`lock_ttl_s`) that it renews every third of the lease while it
runs, so a slow request keeps its key however long it takes. If the lease is lost all the same (the store
was unreachable for the whole lease, or the key was taken over), the request is cancelled before it
answers (503, retry with the same key) rather than run on beside a second holder; and whatever it would
store is refused by the store, which checks the holder's token on every change (`idempotency_store`).
Losing a claim is logged and counted.
"""

import asyncio
import contextlib
import hashlib
import re
import time
from dataclasses import dataclass, field

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from src.common import request_scope
from src.infrastructure.http.idempotency_store import IdempotencyStore, Record, StoredResponse, StoreFailure
from src.infrastructure.http.problems import problem_body, send_problem
from src.infrastructure.observability.metrics import Metrics
from src.infrastructure.observability.throttled import ThrottledWarning

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


@dataclass
class _Capture:
    """The response as it goes out, kept to be stored."""

    send: Send
    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    chunks: list[bytes] = field(default_factory=list)
    complete: bool = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = list(message.get("headers", ()))
        elif message["type"] == "http.response.body":
            self.chunks.append(message.get("body", b""))
            self.complete = not message.get("more_body", False)
        await self.send(message)

    def record(self, fingerprint: str) -> Record | None:
        """What to store: a complete response below 500, else nothing (the key is released)."""
        if self.complete and 0 < self.status < 500:
            return Record(fingerprint, StoredResponse(self.status, self.headers, b"".join(self.chunks)))
        return None


def _replaying(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay_receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay_receive


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
        self._unavailable = ThrottledWarning(log, "idempotency store unavailable")

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
        store_key = scoped_key(key, scope["method"], path, _caller(scope))
        try:
            token, existing = await self.store.begin(store_key, fingerprint, self.lock_ttl_s)
        except StoreFailure as error:
            await self._store_unavailable(send, path, error)
            return
        if existing is not None:
            await self._answer_repeat(send, existing, fingerprint, path)
            return
        assert token is not None
        await self._run_first(scope, _replaying(body, receive), send, store_key, token, fingerprint)

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

    async def _run_first(self, scope: Scope, receive: Receive, send: Send, key: str, token: str,
                         fingerprint: str) -> None:
        capture = _Capture(send)
        run = asyncio.ensure_future(self.app(scope, receive, capture))
        try:
            held = await self._hold(key, token, run, capture)
        finally:
            if not run.done():  # we were cancelled ourselves (server shutdown)
                run.cancel()
        if not held:
            await self._claim_lost(run, capture, scope["path"])
            return
        try:
            run.result()
        except BaseException:
            await self._finish(key, token, None)
            raise
        await self._finish(key, token, capture.record(fingerprint))

    async def _hold(self, key: str, token: str, run: "asyncio.Future[None]", capture: _Capture) -> bool:
        """Renew the lease until the request is done; False (and the request cancelled unless it already
        answered) once the lease is lost."""
        lease_ends = time.monotonic() + self.lock_ttl_s
        while True:
            done, _ = await asyncio.wait({run}, timeout=self.lock_ttl_s / 3)
            if done:
                return True
            held = await self._renew(key, token)
            if held:
                lease_ends = time.monotonic() + self.lock_ttl_s
            if held is False or time.monotonic() >= lease_ends:
                if not capture.status:
                    run.cancel()
                    with contextlib.suppress(BaseException):
                        await run
                return False

    async def _renew(self, key: str, token: str) -> bool | None:
        """Whether the lease was renewed; None when the store could not say (retried until the lease ends)."""
        try:
            return await self.store.renew(key, token, self.lock_ttl_s)
        except StoreFailure as error:
            self._unavailable.warn(error=str(error), operation="renew")
            return None

    async def _finish(self, key: str, token: str, record: Record | None) -> None:
        try:
            if record is not None:
                kept = await self.store.complete(key, token, record, self.ttl_s)
            else:
                kept = await self.store.release(key, token)
        except StoreFailure as error:
            self._unavailable.warn(error=str(error), operation="complete" if record else "release")
            return  # the lease expires on its own; a retry then runs again
        if not kept:
            self._lost("its response could not be stored: another request holds the key now")

    async def _claim_lost(self, run: "asyncio.Future[None]", capture: _Capture, path: str) -> None:
        if capture.status:  # it had answered already: its response is simply not kept
            self._lost("the lease lapsed while the response was being sent; it is not stored")
            with contextlib.suppress(BaseException):
                await run
            return
        self._lost("the lease lapsed before the request finished; it was cancelled")
        await self._problem(
            capture.send, 503, "idempotency-claim-lost", "Service Unavailable",
            "this request lost its hold on the Idempotency-Key before finishing; retry with the same key",
            path, retry_after=b"1",
        )

    def _lost(self, detail: str) -> None:
        self.metrics.idempotency_claims_lost.inc()
        log.error("idempotency claim lost", detail=detail)

    async def _store_unavailable(self, send: Send, path: str, error: StoreFailure) -> None:
        self._unavailable.warn(error=str(error), operation="claim")
        await self._problem(
            send, 503, "idempotency-store-unavailable", "Service Unavailable",
            "the idempotency store is unavailable; retry with the same key", path, retry_after=b"1",
        )

    @staticmethod
    async def _problem(
        send: Send, status: int, slug: str, title: str, detail: str, path: str, *, retry_after: bytes | None = None
    ) -> None:
        body = problem_body(status, slug=slug, title=title, detail=detail, instance=path)
        await send_problem(send, status, body, [(b"retry-after", retry_after)] if retry_after else ())


def _caller(scope: Scope) -> str:
    """Whose key it is: the principal when authenticated (any address), else the client address."""
    principal = scope.get(request_scope.PRINCIPAL)
    if principal is not None:
        return str(principal.rate_key)
    return request_scope.client_of(scope)
