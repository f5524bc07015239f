"""`ClientLimits` over the HTTP edge's own limiter: a WebSocket message spends from the same bucket as an
HTTP request of the same client (resolved the same way, behind the same trusted proxies)."""

import asyncio
from collections.abc import Sequence

from src.infrastructure.http.rate_limit import Limiter, TrustedProxies


class EdgeClientLimits:
    def __init__(self, limiter: Limiter, proxies: TrustedProxies, *, enabled: bool) -> None:
        self._limiter = limiter
        self._proxies = proxies if proxies else None
        self._enabled = enabled

    def client_of(self, peer: str, headers: Sequence[tuple[bytes, bytes]]) -> str:
        return peer if self._proxies is None else self._proxies.client(peer, list(headers))

    async def spend(self, client: str, cost: int = 1) -> float:
        """`cost` hits at once (one pipelined round trip with Redis): refused if any is."""
        if not self._enabled:
            return 0.0
        decisions = await asyncio.gather(*(self._limiter.hit(client) for _ in range(max(1, cost))))
        refused = [decision.retry_after_s for decision in decisions if not decision.allowed]
        return float(max(refused)) if refused else 0.0
