"""EventBus subscribers that hand events to the webhook sender: written to its outbox, delivered in the background."""

from collections.abc import Callable
from typing import Any

from src.common.ports import WebhookSender
from src.domain.events import BarCompletedEvent, BarSyncedEvent, DomainEvent
from src.domain.quality import DataQualityIssueEvent
from src.features.webhooks import payloads


class DeliverWebhooks:
    """Sends one event type as `event_type` with the data `to_data` renders; only events this process raised
    (another process delivers its own)."""

    local_only = True

    def __init__(self, sender: WebhookSender, event_type: str, to_data: Callable[[Any], dict[str, Any]]) -> None:
        self._sender = sender
        self.event_type = event_type
        self._to_data = to_data

    async def __call__(self, event: DomainEvent) -> None:
        await self._sender.send(self.event_type, self._to_data(event), occurred_at=event.occurred_at,
                                correlation_id=event.correlation_id)


def webhook_subscribers(sender: WebhookSender) -> dict[type, list[DeliverWebhooks]]:
    return {
        BarSyncedEvent: [DeliverWebhooks(sender, "bar.synced", payloads.bar_synced)],
        BarCompletedEvent: [DeliverWebhooks(sender, "bar.completed", payloads.bar_completed)],
        DataQualityIssueEvent: [DeliverWebhooks(sender, "quality.issue", payloads.quality_issue)],
    }
