"""The one Redis client of a process, shared by the cache, the rate limiter, the idempotency store and
the invalidation channel.

Its pool is bounded and *waits* for a free connection (up to the timeout) instead of raising, so a burst
of writes queues rather than fails. Every command is bounded by `timeout_s` and retried once at once on a
connection error (redis-py's asyncio `Retry`): a pooled connection left dead by a Redis restart fails on
first use and is replaced by the retry, while a real outage still fails within about two timeouts.
"""

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff


def redis_client(url: str, *, timeout_s: float, max_connections: int = 64) -> Redis:
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=timeout_s,  # how long a command waits for a free connection
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        retry=Retry(NoBackoff(), 1),
        health_check_interval=0,
    )
    return Redis(connection_pool=pool)
