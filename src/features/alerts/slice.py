"""The alerts slice: owners' rules on live prices, closed bars and indicators, evaluated by one process per
rule, delivered to a webhook, the owner's WebSocket connections and the log, with a trigger history."""

from typing import Protocol

from src.common.lifecycle import Component
from src.common.live import LiveQuotes
from src.common.ports import (
    AlertRuleRepository,
    AlertTriggerRepository,
    Broadcast,
    Leases,
    Secrets,
    WebhookSender,
)
from src.domain.alerts import AlertStatus, AlertTriggeredEvent
from src.domain.events import BarCompletedEvent
from src.features.alerts import handlers as h
from src.features.alerts import messages as m
from src.features.alerts.delivery import AlertChannels
from src.features.alerts.evaluator import AlertEvaluator
from src.features.alerts.routes import router
from src.features.shared.deps import SharedDeps
from src.features.shared.slice import Counter, LabeledMetric, Slice, SliceParts


class AlertsDeps(SharedDeps, Protocol):
    @property
    def live(self) -> LiveQuotes: ...
    @property
    def alert_rules(self) -> AlertRuleRepository: ...
    @property
    def alert_triggers(self) -> AlertTriggerRepository: ...
    @property
    def leases(self) -> Leases: ...
    @property
    def secrets(self) -> Secrets: ...
    @property
    def webhooks(self) -> WebhookSender | None: ...
    @property
    def broadcast(self) -> Broadcast: ...


def build(d: AlertsDeps) -> SliceParts:
    s = d.settings
    evaluator = AlertEvaluator(d.alert_rules, d.alert_triggers, d.leases, d.live, d.bars, d.clock, d.event_bus,
                               lease_ttl_s=s.alerts_lease_ttl_s, refresh_s=s.alerts_refresh_s, flush_s=s.alerts_flush_s)
    rules = h.AlertRules(d.alert_rules, evaluator, d.clock)
    check = h.servable(frozenset(d.providers.sources), webhooks=d.webhooks is not None)
    channels = AlertChannels(d.webhooks, d.broadcast)
    return SliceParts(
        handlers={
            m.CreateAlertCommand: h.CreateAlertHandler(rules, d.secrets, check),
            m.ReviseAlertCommand: h.ReviseAlertHandler(rules, check),
            m.EnableAlertCommand: h.EnableAlertHandler(rules),
            m.DisableAlertCommand: h.DisableAlertHandler(rules),
            m.DeleteAlertCommand: h.DeleteAlertHandler(rules, d.alert_triggers),
            m.ListAlertsQuery: h.ListAlertsHandler(d.alert_rules),
            m.GetAlertQuery: h.GetAlertHandler(rules),
            m.ListAlertTriggersQuery: h.ListAlertTriggersHandler(rules, d.alert_triggers),
        },
        subscribers={
            BarCompletedEvent: [evaluator.on_bar_completed],
            AlertTriggeredEvent: [channels.deliver_to_webhook, channels.deliver_to_log, channels.deliver_to_sockets],
        },
        components=[Component("alerts", start=evaluator.start, stop=evaluator.stop, check=evaluator.check)],
        counters=[
            Counter("alert_evaluations", "Ticks and closed bars evaluated against alert rules",
                    lambda: evaluator.evaluations),
            Counter("alert_triggers", "Alert triggers recorded", lambda: evaluator.triggers_recorded),
            Counter("alert_write_conflicts", "Alert rule state writes that found the rule changed by its owner",
                    lambda: evaluator.write_conflicts),
            Counter("alert_write_failures", "Alert rule state writes that failed (retried)",
                    lambda: evaluator.write_failures),
        ],
        labeled=[
            LabeledMetric("alert_deliveries", "Alert triggers handed to each channel (webhook failures: "
                    "webhook_deliveries_total{outcome=\"dead_letter\"})", "channel", lambda: channels.delivered),
            LabeledMetric("alert_rules", "Alert rules evaluated by this process, by state", "state",
                    lambda: {str(state): evaluator.count_by_status(state) for state in AlertStatus}, gauge=True),
        ],
        exposed={"evaluator": evaluator},
    )


SLICE = Slice("alerts", build, routers=(router,))
