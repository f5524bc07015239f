"""The one Redis client of a process, shared by the cache, the rate limiter, the idempotency store and
the invalidation channel.

Its pool is bounded and *waits* for a free connection (up to the timeout) instead of raising, so a burst
of writes queues rather than fails. Every command is bounded by `timeout_s` and retried once at once on a
connection error (redis-py's asyncio `Retry`): a pooled connection left dead by a Redis restart fails on
first use and is replaced by the retry, while a real outage still fails within about two timeouts.

A circuit breaker sits in front of every command (`circuit_breaker`): a timeout or repeated connection
errors seen on the pool's connections open it, and while it is open every command — of every user of the
client — fails at once with `CircuitOpen` (a `redis.ConnectionError`) instead of waiting for a hung
server. A background PING probes the server when the open time is over; its answer closes the breaker.
"""

import asyncio
import contextlib
from typing import Any

import structlog
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.connection import AbstractConnection, Connection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from src.common.correlation import spawn_detached
from src.infrastructure.cache.circuit_breaker import BreakerState, CircuitBreaker, Outcome

log = structlog.get_logger("redis")
_UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)


class CircuitOpen(RedisConnectionError):
    """Redis was found down a moment ago; refused without trying until a probe says it is back."""


class _Guarded:
    """Mixed into the connection class the URL asks for: reports each connect and read to the breaker, and
    refuses to (re)connect while it is open (a retry after a timeout fails at once)."""

    breaker: CircuitBreaker
    probe = False

    async def connect_check_health(self, *args: Any, **kwargs: Any) -> None:
        connected: bool = self.is_connected  # type: ignore[attr-defined]
        if not connected and not self.probe and self.breaker.state is not BreakerState.CLOSED:
            raise CircuitOpen("Redis circuit open")
        try:
            await super().connect_check_health(*args, **kwargs)  # type: ignore[misc]
        except _UNAVAILABLE as error:
            if not isinstance(error, CircuitOpen):
                self.breaker.failed(timed_out=_is_timeout(error))
            raise

    async def read_response(self, *args: Any, **kwargs: Any) -> Any:
        try:
            response = await super().read_response(*args, **kwargs)  # type: ignore[misc]
        except _UNAVAILABLE as error:
            self.breaker.failed(timed_out=_is_timeout(error))
            raise
        if response is not None or kwargs.get("timeout") is None:  # None after a caller's own timeout: no news
            self.breaker.succeeded()
        return response


def _is_timeout(error: BaseException) -> bool:
    return isinstance(error, RedisTimeoutError | TimeoutError)


class GuardedConnectionPool(BlockingConnectionPool):
    def __init__(self, *, breaker: CircuitBreaker, **kwargs: Any) -> None:
        base: type[AbstractConnection] = kwargs.pop("connection_class", Connection)
        guarded = type(f"Guarded{base.__name__}", (_Guarded, base), {"breaker": breaker})
        super().__init__(connection_class=guarded, **kwargs)
        self.breaker = breaker
        self._probe: asyncio.Task[None] | None = None

    async def get_connection(self, *args: Any, **kwargs: Any) -> AbstractConnection:
        self._refuse_while_open()
        connection: AbstractConnection = await super().get_connection(*args, **kwargs)  # type: ignore[no-untyped-call]
        if self.breaker.state is not BreakerState.CLOSED:  # it opened while we waited for a free connection
            await self.release(connection)
            self._refuse_while_open()
        return connection

    def _refuse_while_open(self) -> None:
        if not self.breaker.allows():
            if self.breaker.probe_due():
                self._probe = spawn_detached(self._run_probe(), name="redis-breaker-probe")
            raise CircuitOpen("Redis circuit open: failing fast until a probe finds the server back")

    async def _run_probe(self) -> None:
        connection = self.make_connection()  # type: ignore[no-untyped-call]
        connection.probe = True
        try:
            await connection.connect()
            await connection.send_command("PING")
            await connection.read_response()  # an answer closes the breaker, a timeout reopens it
        except _UNAVAILABLE:
            if self.breaker.state is BreakerState.PROBING:  # e.g. refused before any read was reported
                self.breaker.failed()
        finally:
            with contextlib.suppress(*_UNAVAILABLE):
                await connection.disconnect()


def log_breaker_change(before: BreakerState, after: BreakerState, outcome: Outcome) -> None:
    """One line per change of state, never one per refused command."""
    if after is BreakerState.OPEN:
        log.warning("redis_circuit_opened", previous=before, reason=outcome,
                    detail="Redis commands fail at once until a probe finds the server back")
    elif after is BreakerState.CLOSED:
        log.info("redis_circuit_closed", previous=before, reason=outcome)


def redis_client(url: str, *, timeout_s: float, max_connections: int = 64,
                 breaker: CircuitBreaker | None = None) -> Redis:
    pool = GuardedConnectionPool.from_url(
        url,
        breaker=breaker or CircuitBreaker(on_change=log_breaker_change),
        max_connections=max_connections,
        timeout=timeout_s,  # how long a command waits for a free connection
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        retry=Retry(NoBackoff(), 1),
        health_check_interval=0,
    )
    return Redis(connection_pool=pool)
