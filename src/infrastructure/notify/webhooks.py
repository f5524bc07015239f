"""`WebhookDispatcher` (the `WebhookSender` port): delivers events to webhook URLs in background tasks,
never blocking the publisher or the request.

Each delivery is signed (see `signing`), carries the event's correlation id in `X-Correlation-ID`, is
retried with exponential backoff (with jitter) on connection errors, timeouts, 408, 429 and 5xx, and is
recorded as a dead letter (store + warning log) after the last failed attempt or a permanent 4xx.
"""

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import orjson
import structlog

from src.common.correlation import correlation_scope, get_correlation_id
from src.common.ports import DeadLetter, DeadLetterRepository
from src.common.redaction import redact_text, redact_url
from src.common.time_format import iso_utc
from src.infrastructure.notify.signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
)

log = structlog.get_logger("webhooks")
_RETRYABLE_4XX = frozenset({408, 425, 429})


class WebhookDispatcher:
    def __init__(
        self,
        urls: list[str],
        *,
        secret: bytes | None,
        timeout_s: float = 5.0,
        max_attempts: int = 5,
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 60.0,
        max_in_flight: int = 32,
        max_pending: int = 10_000,
        drain_timeout_s: float = 5.0,
        dead_letters: DeadLetterRepository,
        on_outcome: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.urls = list(urls)
        self._secret = secret
        self._timeout_s = timeout_s
        self._max_attempts = max_attempts
        self._backoff_base_s = backoff_base_s
        self._backoff_max_s = backoff_max_s
        self._max_pending = max_pending
        self._drain_timeout_s = drain_timeout_s
        self.dead_letters = dead_letters
        self._on_outcome = on_outcome
        self._clock = clock
        self._sleep = sleep
        self._in_flight = asyncio.Semaphore(max_in_flight)
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    # --- lifecycle ----------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._secret is None:
            log.warning("webhook secret not set; deliveries are unsigned")
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout_s))
        self._closed = False

    async def stop(self) -> None:
        """Wait up to the drain timeout for pending deliveries, then cancel the rest (dead-lettered)."""
        self._closed = True
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=self._drain_timeout_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def pending(self) -> int:
        return len(self._tasks)

    # --- WebhookSender ------------------------------------------------------------------------------

    def send(self, event_type: str, data: dict[str, Any], *, occurred_at: float, correlation_id: str | None) -> None:
        """Schedule one delivery per URL and return at once."""
        if self._closed or self._session is None:
            log.warning("webhook dispatcher not running; event not delivered", event_type=event_type)
            return
        correlation_id = correlation_id or get_correlation_id()
        delivery_id = uuid.uuid4().hex
        body = orjson.dumps({
            "id": delivery_id,
            "type": event_type,
            "occurred_at": iso_utc(occurred_at),
            "occurred_at_timestamp": occurred_at,
            "correlation_id": correlation_id,
            "data": data,
        })
        for url in self.urls:
            if len(self._tasks) >= self._max_pending:
                log.error("webhook queue full; delivery dropped", url=redact_url(url), event_type=event_type)
                self._count("dropped")
                continue
            task = asyncio.get_running_loop().create_task(
                self._deliver(delivery_id, url, event_type, body, correlation_id)
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    # --- delivery -----------------------------------------------------------------------------------

    async def _deliver(
        self, delivery_id: str, url: str, event_type: str, body: bytes, correlation_id: str | None
    ) -> None:
        attempt = 0
        error = "not attempted"
        with correlation_scope(correlation_id):
            try:
                async with self._in_flight:
                    for attempt in range(1, self._max_attempts + 1):
                        error, retry = await self._attempt(delivery_id, url, event_type, body, correlation_id)
                        if not error:
                            self._count("delivered")
                            return
                        if not retry or attempt == self._max_attempts:
                            break
                        self._count("retried")
                        await self._sleep(self._backoff(attempt))
            except asyncio.CancelledError:
                await self._dead_letter(delivery_id, url, event_type, body, attempt, "cancelled at shutdown",
                                        correlation_id)
                raise
            await self._dead_letter(delivery_id, url, event_type, body, attempt, error, correlation_id)

    async def _attempt(
        self, delivery_id: str, url: str, event_type: str, body: bytes, correlation_id: str | None
    ) -> tuple[str, bool]:
        """("", _) on success, else (error, whether a retry may help)."""
        assert self._session is not None
        timestamp = str(int(self._clock()))
        headers = {
            "Content-Type": "application/json",
            EVENT_HEADER: event_type,
            DELIVERY_HEADER: delivery_id,
            TIMESTAMP_HEADER: timestamp,
        }
        if self._secret is not None:
            headers[SIGNATURE_HEADER] = sign(self._secret, timestamp, body)
        if correlation_id:
            headers["X-Correlation-ID"] = correlation_id
        try:
            async with self._session.post(url, data=body, headers=headers) as response:
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            return f"{type(exc).__name__}: {exc}"[:300] or type(exc).__name__, True
        if 200 <= status < 300:
            return "", False
        return f"HTTP {status}", status >= 500 or status in _RETRYABLE_4XX

    def _backoff(self, attempt: int) -> float:
        delay: float = min(self._backoff_max_s, self._backoff_base_s * 2 ** (attempt - 1))
        return delay * random.uniform(0.8, 1.2)

    async def _dead_letter(
        self, delivery_id: str, url: str, event_type: str, body: bytes, attempts: int, error: str,
        correlation_id: str | None,
    ) -> None:
        self._count("dead_letter")
        url, error = redact_url(url), redact_text(error)  # credentials in a URL are never logged or stored
        log.warning(
            "webhook delivery failed for good",
            delivery_id=delivery_id, url=url, event_type=event_type, attempts=attempts, error=error,
        )
        letter = DeadLetter(delivery_id, url, event_type, body, attempts, error, correlation_id, self._clock())
        try:
            await self.dead_letters.add(letter)
        except Exception:
            log.exception("could not record webhook dead letter", delivery_id=delivery_id)

    def _count(self, outcome: str) -> None:
        if self._on_outcome is not None:
            self._on_outcome(outcome)

