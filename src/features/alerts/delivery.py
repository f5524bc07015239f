"""The channels of a trigger, as EventBus subscribers of `AlertTriggeredEvent` (published by the evaluator
once the trigger is persisted, in the one process that evaluates the rule): the webhook (signed, retried,
dead-lettered by the webhook sender), the log, and the owner's WebSocket connections — in whichever process
they are: the `alert` frame is broadcast to every process, whose WebSocket hub sends it to the owner's sockets.
Each acts on the triggers of this process's evaluator only: a trigger bridged from another process was delivered
there."""

from collections import Counter

import structlog

from src.common.alert_shape import ALERT_FRAMES, alert_frame_message, trigger_fields
from src.common.event_bus import local_only
from src.common.ports import Broadcast, WebhookSender
from src.domain.alerts import AlertTriggeredEvent

WEBHOOK_EVENT_TYPE = "alert.triggered"


class AlertChannels:
    def __init__(self, webhooks: WebhookSender | None, broadcast: Broadcast) -> None:
        self._webhooks = webhooks
        self._broadcast = broadcast
        self.delivered: Counter[str] = Counter()  # triggers handed to each channel

    @local_only
    async def deliver_to_webhook(self, event: AlertTriggeredEvent) -> None:
        if "webhook" in event.channels and self._webhooks is not None:
            await self._webhooks.send(WEBHOOK_EVENT_TYPE, trigger_fields(event), occurred_at=event.occurred_at,
                                correlation_id=event.correlation_id)
            self.delivered["webhook"] += 1

    @local_only
    def deliver_to_log(self, event: AlertTriggeredEvent) -> None:
        if "log" in event.channels:
            structlog.get_logger("alerts").info("alert_triggered", **trigger_fields(event))
            self.delivered["log"] += 1

    @local_only
    async def deliver_to_sockets(self, event: AlertTriggeredEvent) -> None:
        if "websocket" in event.channels:
            await self._broadcast.publish(ALERT_FRAMES, alert_frame_message(event))
            self.delivered["websocket"] += 1
