"""`WebhookDispatcher` (the `WebhookSender` port): delivers events to webhook URLs through a durable outbox,
never blocking the publisher or the request beyond writing the outbox.

`send` writes one delivery per URL to the outbox (so a crash loses none) and wakes the pump; the pump of
each running process claims due deliveries (a lease per delivery, so two processes never attempt the same
one at once) and attempts them, at most `max_in_flight` at a time. Each attempt is signed (see `signing`)
and carries the event's correlation id in `X-Correlation-ID`. Connection errors, timeouts, 408, 425, 429
and 5xx are retried with exponential backoff (with jitter), the next attempt time kept in the outbox; a
delivery is a dead letter (store + warning log) after its last failed attempt or a permanent 4xx.
Dead letters can be queued again (`redeliver`) to a URL still configured.
"""

import asyncio
import contextlib
import os
import random
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import replace

import aiohttp
import orjson
import structlog

from src.common.correlation import correlation_scope, get_correlation_id
from src.common.ports import DeadLetter, DeadLetterRepository, OutboxDelivery, WebhookOutbox
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
LEASE_MARGIN_S = 5.0  # a claimed delivery is held this long beyond its attempt's timeout


class WebhookDispatcher:
    def __init__(
        self,
        urls: list[str],
        *,
        secret: bytes | None,
        outbox: WebhookOutbox,
        dead_letters: DeadLetterRepository,
        timeout_s: float = 5.0,
        max_attempts: int = 5,
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 60.0,
        max_in_flight: int = 32,
        drain_timeout_s: float = 5.0,
        poll_s: float = 1.0,
        on_outcome: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.urls = list(urls)
        self._secret = secret
        self.outbox = outbox
        self.dead_letters = dead_letters
        self._timeout_s = timeout_s
        self._max_attempts = max_attempts
        self._backoff_base_s = backoff_base_s
        self._backoff_max_s = backoff_max_s
        self._max_in_flight = max_in_flight
        self._drain_timeout_s = drain_timeout_s
        self._poll_s = poll_s
        self._on_outcome = on_outcome
        self._clock = clock
        self._owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._pump_task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    # --- lifecycle ----------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._secret is None:
            log.warning("webhook secret not set; deliveries are unsigned")
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout_s))
        self._pump_task = asyncio.create_task(self._pump(), name="webhook-pump")

    async def stop(self) -> None:
        """Stop claiming; wait up to the drain timeout for attempts in flight, then cancel the rest (they stay
        in the outbox, released for the next process)."""
        if self._pump_task is not None:
            self._pump_task.cancel()
            await asyncio.gather(self._pump_task, return_exceptions=True)
            self._pump_task = None
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=self._drain_timeout_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        try:
            await self.outbox.release(self._owner)
        except Exception:
            log.exception("could not release the webhook deliveries of this process")
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    # --- WebhookSender ------------------------------------------------------------------------------

    async def send(self, event_type: str, data: dict[str, object], *, occurred_at: float,
                   correlation_id: str | None) -> None:
        correlation_id = correlation_id or get_correlation_id()
        now = self._clock()
        deliveries = []
        for url in self.urls:  # an id per URL: each receiver sees one id per event, kept across retries
            delivery_id = uuid.uuid4().hex
            body = orjson.dumps({
                "id": delivery_id, "type": event_type, "occurred_at": iso_utc(occurred_at),
                "occurred_at_timestamp": occurred_at, "correlation_id": correlation_id, "data": data,
            })
            deliveries.append(OutboxDelivery(delivery_id, url, event_type, body, correlation_id, now, now))
        await self.outbox.add(deliveries)
        self._wake.set()

    async def redeliver(self, letter: DeadLetter) -> bool:
        url = next((u for u in self.urls if u == letter.url or redact_url(u) == letter.url), None)
        if url is None:
            return False
        now = self._clock()
        await self.outbox.add([OutboxDelivery(letter.delivery_id, url, letter.event_type, letter.body,
                                              letter.correlation_id, now, now)])
        self._wake.set()
        return True

    # --- the pump -----------------------------------------------------------------------------------

    async def _pump(self) -> None:
        lease_s = self._timeout_s + LEASE_MARGIN_S
        while True:
            self._wake.clear()
            claimed: list[OutboxDelivery] = []
            if (free := self._max_in_flight - len(self._tasks)) > 0:
                try:
                    claimed = await self.outbox.claim_due(self._owner, self._clock(), lease_s, free)
                except Exception:
                    log.exception("could not read the webhook outbox")
            if not claimed:  # idle, full or failing: until a send, a finished attempt or the poll
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll_s)
                continue
            for delivery in claimed:
                task = asyncio.create_task(self._deliver(delivery), name=f"webhook {delivery.delivery_id}")
                self._tasks.add(task)
                task.add_done_callback(self._finished)

    def _finished(self, task: "asyncio.Task[None]") -> None:
        self._tasks.discard(task)
        self._wake.set()

    async def _deliver(self, delivery: OutboxDelivery) -> None:
        with correlation_scope(delivery.correlation_id):
            error, retry = await self._attempt(delivery)
            attempts = delivery.attempts + 1
            try:
                if not error:
                    self._count("delivered")
                    await self.outbox.remove(delivery.delivery_id)
                elif retry and attempts < self._max_attempts:
                    self._count("retried")
                    await self.outbox.retry_later(replace(
                        delivery, attempts=attempts, last_error=error,
                        next_attempt_at=self._clock() + self._backoff(attempts)), self._owner)
                else:
                    await self._dead_letter(delivery, attempts, error)
                    await self.outbox.remove(delivery.delivery_id)
            except Exception:  # the lease expires and the delivery is attempted again
                log.exception("could not record a webhook attempt", delivery_id=delivery.delivery_id)

    async def _attempt(self, delivery: OutboxDelivery) -> tuple[str, bool]:
        """("", _) on success, else (error, whether a retry may help)."""
        assert self._session is not None
        timestamp = str(int(self._clock()))
        headers = {
            "Content-Type": "application/json",
            EVENT_HEADER: delivery.event_type,
            DELIVERY_HEADER: delivery.delivery_id,
            TIMESTAMP_HEADER: timestamp,
        }
        if self._secret is not None:
            headers[SIGNATURE_HEADER] = sign(self._secret, timestamp, delivery.body)
        if delivery.correlation_id:
            headers["X-Correlation-ID"] = delivery.correlation_id
        try:
            async with self._session.post(delivery.url, data=delivery.body, headers=headers) as response:
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            return f"{type(exc).__name__}: {exc}"[:300] or type(exc).__name__, True
        if 200 <= status < 300:
            return "", False
        return f"HTTP {status}", status >= 500 or status in _RETRYABLE_4XX

    def _backoff(self, attempt: int) -> float:
        delay: float = min(self._backoff_max_s, self._backoff_base_s * 2 ** (attempt - 1))
        return delay * random.uniform(0.8, 1.2)

    async def _dead_letter(self, delivery: OutboxDelivery, attempts: int, error: str) -> None:
        self._count("dead_letter")
        url, error = redact_url(delivery.url), redact_text(error)  # credentials in a URL are never logged or stored
        log.warning("webhook delivery failed for good", delivery_id=delivery.delivery_id, url=url,
                    event_type=delivery.event_type, attempts=attempts, error=error)
        await self.dead_letters.add(DeadLetter(delivery.delivery_id, url, delivery.event_type, delivery.body,
                                               attempts, error, delivery.correlation_id, self._clock()))

    def _count(self, outcome: str) -> None:
        if self._on_outcome is not None:
            self._on_outcome(outcome)
