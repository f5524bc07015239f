"""The webhooks slice: with URLs configured, `bar.synced` and `bar.completed` events are delivered
signed to each; failed deliveries become dead letters listed here."""

from typing import Protocol

from src.common.ports import DeadLetterRepository, WebhookSender
from src.features.shared.slice import Slice, SliceParts
from src.features.webhooks.handlers import ListDeadLettersHandler
from src.features.webhooks.messages import ListDeadLettersQuery
from src.features.webhooks.routes import router
from src.features.webhooks.subscribers import webhook_subscribers


class WebhooksDeps(Protocol):
    @property
    def webhooks(self) -> WebhookSender | None: ...  # None: no URLs configured
    @property
    def dead_letters(self) -> DeadLetterRepository: ...


def build(d: WebhooksDeps) -> SliceParts:
    return SliceParts(
        handlers={ListDeadLettersQuery: ListDeadLettersHandler(d.dead_letters)},
        subscribers=webhook_subscribers(d.webhooks) if d.webhooks is not None else {},
    )


SLICE = Slice("webhooks", build, routers=(router,))
