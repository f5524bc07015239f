"""Webhooks: EventBus subscribers that deliver signed JSON to the URLs in settings, in the background."""

from src.infrastructure.webhooks.dead_letters import DeadLetter, DeadLetterStore, InMemoryDeadLetterStore
from src.infrastructure.webhooks.dispatcher import WebhookDispatcher, subscribe_webhooks
from src.infrastructure.webhooks.signing import sign, verify

__all__ = [
    "DeadLetter",
    "DeadLetterStore",
    "InMemoryDeadLetterStore",
    "WebhookDispatcher",
    "sign",
    "subscribe_webhooks",
    "verify",
]
