"""What the root puts around every source: its circuit breaker (`SourceGuard`, one per source, wrapping its
provider) and its request budget (`UpstreamLimiter`, one token bucket per source, in Redis when configured so
that every worker shares it, else in this process). Both are exported to `/metrics`; the breaker is also the
source's `/health` check."""

from collections.abc import Sequence

from redis.asyncio import Redis

from src.common.ports import Provider, UpstreamLimiter
from src.common.settings import Settings
from src.common.source_guard import SourceGuard
from src.domain.sources import BreakerPolicy, CircuitState
from src.infrastructure.observability.metrics import Metrics
from src.infrastructure.upstream.limits import InProcessUpstreamLimiter, RedisUpstreamLimiter

STATE_LEVELS = {CircuitState.CLOSED: 0, CircuitState.HALF_OPEN: 1, CircuitState.OPEN: 2}


class SourceGuards:
    def __init__(self, settings: Settings, redis: Redis | None) -> None:
        self._settings = settings
        self._redis = redis
        self._policy = BreakerPolicy(settings.source_breaker_failures, settings.source_breaker_open_s)
        self.guards: dict[str, SourceGuard] = {}
        self.limiters: dict[str, InProcessUpstreamLimiter | RedisUpstreamLimiter] = {}

    def limiter_for(self, source: str, capacity: float, refill_per_s: float) -> UpstreamLimiter:
        wait = self._settings.source_max_wait_s
        limiter: InProcessUpstreamLimiter | RedisUpstreamLimiter
        if self._redis is None:
            limiter = InProcessUpstreamLimiter(source, capacity, refill_per_s, max_wait_s=wait)
        else:
            limiter = RedisUpstreamLimiter(self._redis, source, capacity, refill_per_s, max_wait_s=wait,
                                           prefix=self._settings.upstream_redis_prefix)
        self.limiters[source] = limiter
        return limiter

    def wrap(self, providers: Sequence[Provider]) -> list[Provider]:
        """Every provider behind its source's breaker."""
        wrapped = []
        for provider in providers:
            guard = self.guards[provider.source] = SourceGuard(provider.source, self._policy)
            wrapped.append(guard.wrap(provider))
        return wrapped

    def __getitem__(self, source: str) -> SourceGuard:
        return self.guards[source]

    def observe(self, metrics: Metrics) -> None:
        guards, limiters = self.guards, self.limiters
        metrics.observe_labeled_gauge("source_circuit_state", "Each source's circuit: 0 closed, 1 half-open, 2 open",
                                      "source", lambda: {s: STATE_LEVELS[g.state] for s, g in guards.items()})
        metrics.observe_labeled_counter("source_circuit_opened", "Times each source's circuit opened", "source",
                                        lambda: {s: g.breaker.times_opened for s, g in guards.items()})
        metrics.observe_labeled_counter("source_requests_refused", "Requests refused at once by an open circuit",
                                        "source", lambda: {s: g.refused for s, g in guards.items()})
        metrics.observe_labeled_counter("source_budget_wait_seconds", "Seconds requests waited for their source's "
                                        "shared request budget", "source",
                                        lambda: {s: lim.waited_s for s, lim in limiters.items()})
