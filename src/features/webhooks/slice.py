"""The webhooks slice: with URLs configured, `bar.synced` and `bar.completed` events are delivered
signed to each through a durable outbox; failed deliveries become dead letters, listed and redelivered here."""

from typing import Protocol

from src.common.ports import DeadLetterRepository, WebhookSender
from src.features.shared.slice import Slice, SliceParts
from src.features.webhooks import handlers as h
from src.features.webhooks import messages as m
from src.features.webhooks.routes import router
from src.features.webhooks.subscribers import webhook_subscribers


class WebhooksDeps(Protocol):
    @property
    def webhooks(self) -> WebhookSender | None: ...  # None: no URLs configured
    @property
    def dead_letters(self) -> DeadLetterRepository: ...


def build(d: WebhooksDeps) -> SliceParts:
    redelivery = h.DeadLetterRedelivery(d.dead_letters, d.webhooks)
    return SliceParts(
        handlers={
            m.ListDeadLettersQuery: h.ListDeadLettersHandler(d.dead_letters),
            m.RedeliverDeadLetterCommand: h.RedeliverDeadLetterHandler(d.dead_letters, redelivery),
            m.RedeliverDeadLettersCommand: h.RedeliverDeadLettersHandler(d.dead_letters, redelivery),
        },
        subscribers=webhook_subscribers(d.webhooks) if d.webhooks is not None else {},
    )


SLICE = Slice("webhooks", build, routers=(router,))
