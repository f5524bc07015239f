"""Rate limiting: a token bucket per principal when the request is authenticated, per client address
otherwise, in Redis (shared by every worker, one atomic script per
request, auto-pipelined across concurrent requests) or in process when Redis is not configured. Over
the limit → 429 problem+json with `Retry-After` and `RateLimit-*` headers. If Redis fails, requests are
let through (fail open), logged at most once per `warn_every_s` and counted in metrics.
"""

import asyncio
import hashlib
import ipaddress
import math
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import structlog
from redis.asyncio import Redis
from redis.exceptions import NoScriptError, RedisError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from src.common import request_scope as scope_keys
from src.common.correlation import spawn_detached
from src.infrastructure.http.correlation_middleware import RESPONSE_HEADERS_SCOPE_KEY
from src.infrastructure.http.problems import problem_body, send_problem
from src.infrastructure.observability.metrics import Metrics

log = structlog.get_logger("http.rate_limit")
CLIENT_SCOPE_KEY = scope_keys.CLIENT  # the resolved client address, reused by the idempotency layer


class Decision:
    """One limiter answer; the header figures are only computed when a response needs them."""

    __slots__ = ("allowed", "capacity", "refill_per_s", "remaining", "tokens")

    def __init__(self, allowed: bool, tokens: float, capacity: float, refill_per_s: float) -> None:
        self.allowed = allowed
        self.tokens = tokens
        self.remaining = int(tokens)
        self.capacity = capacity
        self.refill_per_s = refill_per_s

    @property
    def retry_after_s(self) -> int:
        """Whole seconds until one token is back (0 when allowed)."""
        return 0 if self.allowed else max(1, math.ceil((1 - self.tokens) / self.refill_per_s))

    @property
    def reset_s(self) -> int:
        """Whole seconds until the bucket is full again."""
        return max(0, math.ceil((self.capacity - self.tokens) / self.refill_per_s))


def take(
    tokens: float, updated_at: float, now: float, capacity: float, refill_per_s: float
) -> tuple[float, bool]:
    """The token-bucket step: refill for the time elapsed, then take one token if there is one."""
    if now > updated_at:
        tokens = min(capacity, tokens + (now - updated_at) * refill_per_s)
    if tokens >= 1:
        return tokens - 1, True
    return tokens, False


def decide(tokens_left: float, allowed: bool, capacity: float, refill_per_s: float) -> Decision:
    return Decision(allowed, tokens_left, capacity, refill_per_s)


class Limiter(Protocol):
    capacity: int

    async def hit(self, client: str) -> Decision: ...


class InProcessLimiter:
    """Buckets in a dict; full buckets are forgotten when the dict grows past `max_clients`."""

    def __init__(
        self,
        capacity: int,
        refill_per_s: float,
        *,
        max_clients: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity = capacity
        self._clock = clock
        self.refill_per_s = refill_per_s
        self._max_clients = max_clients
        self._buckets: dict[str, list[float]] = {}

    async def hit(self, client: str) -> Decision:
        now = self._clock()
        bucket = self._buckets.get(client)
        if bucket is None:
            if len(self._buckets) >= self._max_clients:
                self._forget_full(now)
            bucket = self._buckets[client] = [float(self.capacity), now]
        tokens, allowed = take(bucket[0], bucket[1], now, self.capacity, self.refill_per_s)
        bucket[0] = tokens
        bucket[1] = now
        return decide(tokens, allowed, self.capacity, self.refill_per_s)

    def _forget_full(self, now: float) -> None:
        full_after = self.capacity / self.refill_per_s
        stale = [c for c, (_, ts) in self._buckets.items() if now - ts >= full_after]
        for client in stale or list(self._buckets)[: len(self._buckets) // 2]:
            del self._buckets[client]


@cache
def token_bucket_script() -> str:
    return Path(__file__).with_name("token_bucket.lua").read_text()


class _ScriptBatcher:
    """Auto-pipelining: every bucket check that arrives during one turn of the event loop goes to Redis in
    one pipeline (one write, one read) instead of one round trip each. Under load that divides the
    limiter's Redis cost by the batch size; alone, a request waits no longer than before."""

    def __init__(self, redis: Redis, script: str) -> None:
        self._redis = redis
        self._script = script
        self._sha = hashlib.sha1(script.encode()).hexdigest()
        self._pending: list[tuple[str, tuple[Any, ...], asyncio.Future[Any]]] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def call(self, key: str, args: tuple[Any, ...]) -> "asyncio.Future[Any]":
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((key, args, future))
        if len(self._pending) == 1:
            loop.call_soon(self._flush)
        return future

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        task = spawn_detached(self._send(batch), name="rate-limit-batch")  # serves many requests: none's id
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, batch: list[tuple[str, tuple[Any, ...], "asyncio.Future[Any]"]]) -> None:
        try:
            results = await self._execute(batch)
        except asyncio.CancelledError:
            for _, _, future in batch:
                future.cancel()
            raise
        except Exception as error:
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for (_, _, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    async def _execute(self, batch: list[tuple[str, tuple[Any, ...], "asyncio.Future[Any]"]]) -> list[Any]:
        try:
            return await self._pipeline(batch)
        except NoScriptError:  # a restarted or flushed Redis forgot the script: load it once, retry
            await self._redis.script_load(self._script)
            return await self._pipeline(batch)

    async def _pipeline(self, batch: list[tuple[str, tuple[Any, ...], "asyncio.Future[Any]"]]) -> list[Any]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for key, args, _ in batch:
                pipe.evalsha(self._sha, 1, key, *args)
            results = await pipe.execute(raise_on_error=False)
        errors = [r for r in results if isinstance(r, Exception)]
        if errors:
            raise errors[0]
        return results


class RedisLimiter:
    """An atomic token-bucket script in Redis per request, auto-pipelined across concurrent requests.
    Fails open."""

    def __init__(
        self,
        redis: Redis,
        capacity: int,
        refill_per_s: float,
        *,
        metrics: Metrics,
        prefix: str = "pq:edge:",
        warn_every_s: float = 30.0,
        pause_after_failure_s: float = 1.0,
    ) -> None:
        self.capacity = capacity
        self.refill_per_s = refill_per_s
        self._batcher = _ScriptBatcher(redis, token_bucket_script())
        self._args = (capacity, refill_per_s)
        self._prefix = prefix + "rl:"
        self._metrics = metrics
        self._warn_every_s = warn_every_s
        self._pause_s = pause_after_failure_s
        self._paused_until = 0.0
        self._last_warning = -math.inf
        self._open = Decision(True, capacity, capacity, refill_per_s)

    async def hit(self, client: str) -> Decision:
        now = time.monotonic()
        if now < self._paused_until:  # Redis failed a moment ago: do not wait on it for every request
            return self._fail_open(now, None)
        try:
            allowed, tokens = await self._batcher.call(self._prefix + client, self._args)
        except (RedisError, OSError, TimeoutError) as error:
            self._paused_until = now + self._pause_s
            return self._fail_open(now, error)
        return decide(float(tokens), bool(allowed), self.capacity, self.refill_per_s)

    def _fail_open(self, now: float, error: BaseException | None) -> Decision:
        self._metrics.rate_limit_fail_open.inc()
        if now - self._last_warning >= self._warn_every_s:
            self._last_warning = now
            log.warning(
                "rate limiter store unavailable; failing open",
                error=f"{type(error).__name__}: {error}" if error else "paused after an earlier failure",
            )
        return self._open


class TrustedProxies:
    """Resolves the client address: the peer, or the right-most untrusted X-Forwarded-For hop when the
    peer is a trusted proxy."""

    def __init__(self, cidrs: list[str]) -> None:
        self._networks = [ipaddress.ip_network(c, strict=False) for c in cidrs]
        self._trusted: dict[str, bool] = {}

    def __bool__(self) -> bool:
        return bool(self._networks)

    def is_trusted(self, address: str) -> bool:
        known = self._trusted.get(address)
        if known is None:
            try:
                ip = ipaddress.ip_address(address)
                known = any(ip in net for net in self._networks)
            except ValueError:
                known = False
            if len(self._trusted) < 10_000:
                self._trusted[address] = known
        return known

    def client(self, peer: str, headers: list[tuple[bytes, bytes]]) -> str:
        if not self.is_trusted(peer):
            return peer
        hops: list[str] = []
        for name, value in headers:
            if name == b"x-forwarded-for":
                hops.extend(h.strip() for h in value.decode("latin-1").split(","))
        for hop in reversed(hops):
            if hop and not self.is_trusted(hop):
                return hop
        return hops[0] if hops and hops[0] else peer


class RateLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        limiter: Limiter,
        metrics: Metrics,
        *,
        exempt_paths: list[str],
        trusted_proxies: TrustedProxies,
        headers_always: bool = False,
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.metrics = metrics
        self.exempt = frozenset(exempt_paths)
        self.proxies = trusted_proxies if trusted_proxies else None
        # RateLimit-* on successful responses: always, or (default) once half the bucket is spent, when a
        # client has reason to slow down; three more headers on every response cost ~3% of a cheap route.
        self.headers_below = limiter.capacity + 1 if headers_always else limiter.capacity // 2
        self._limit_header = (b"ratelimit-limit", str(limiter.capacity).encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        peer = scope["client"][0] if scope.get("client") else "unknown"
        client = self.proxies.client(peer, scope["headers"]) if self.proxies is not None else peer
        scope[CLIENT_SCOPE_KEY] = client
        principal = scope.get(scope_keys.PRINCIPAL)  # authenticated: the principal's bucket, from any address
        decision = await self.limiter.hit(client if principal is None else principal.rate_key)
        if decision.allowed and decision.remaining >= self.headers_below:
            await self.app(scope, receive, send)
            return
        headers = (
            self._limit_header,
            (b"ratelimit-remaining", _ascii(decision.remaining)),
            (b"ratelimit-reset", _ascii(decision.reset_s)),
        )
        if not decision.allowed:
            await self._reject(scope, send, decision, headers)
            return
        response_headers = scope.get(RESPONSE_HEADERS_SCOPE_KEY)
        if response_headers is not None:  # the outermost middleware adds them
            response_headers.extend(headers)
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _reject(
        self, scope: Scope, send: Send, decision: Decision, headers: tuple[tuple[bytes, bytes], ...]
    ) -> None:
        self.metrics.rate_limit_rejections.inc()
        body = problem_body(
            429,
            slug="rate-limited",
            title="Too Many Requests",
            detail=f"rate limit of {self.limiter.capacity} requests exceeded; retry in {decision.retry_after_s}s",
            instance=scope["path"],
        )
        await send_problem(send, 429, body, [*headers, (b"retry-after", _ascii(decision.retry_after_s))])


_ASCII_INTS = [str(i).encode() for i in range(1024)]


def _ascii(value: int) -> bytes:
    return _ASCII_INTS[value] if 0 <= value < 1024 else str(value).encode()
