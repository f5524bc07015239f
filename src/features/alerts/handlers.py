"""Handlers of the alerts slice: load, call the rule, save over the revision read, let the evaluator know.

A save that finds the rule changed meanwhile (the evaluator wrote what it remembers) is retried on the
fresh version, a few times; the rule's own methods decide what a change does to its state."""

from collections.abc import Callable
from dataclasses import fields as dataclass_fields
from dataclasses import replace
from typing import Any

from src.common.errors import Conflict, NotFound
from src.common.ports import AlertRuleRepository, AlertTriggerRepository, Clock, Secrets, StoredAlertRule
from src.domain.alerts import AlertMemory, AlertRule, AlertStatus, AlertTriggeredEvent, parse_condition
from src.domain.alerts.errors import InvalidAlertRule
from src.features.alerts import messages as m
from src.features.alerts.evaluator import AlertEvaluator

SAVE_ATTEMPTS = 5
Check = Callable[[AlertRule], None]  # refuses settings the service cannot serve (unknown source, no webhooks)


class AlertRules:
    """The rules an actor may reach, and saving a change of one."""

    def __init__(self, rules: AlertRuleRepository, evaluator: AlertEvaluator, clock: Clock) -> None:
        self.rules = rules
        self.evaluator = evaluator
        self.clock = clock

    async def reachable(self, actor: m.AlertActor, rule_id: str) -> StoredAlertRule:
        stored = await self.rules.get(rule_id)
        if stored is None or not (actor.sees_all or stored.rule.owner == actor.user_id):
            raise NotFound(f"no alert rule {rule_id}")
        return stored

    async def change(self, actor: m.AlertActor, rule_id: str,
                     change: Callable[[AlertRule], AlertRule]) -> StoredAlertRule:
        for _ in range(SAVE_ATTEMPTS):
            stored = await self.reachable(actor, rule_id)
            changed = change(stored.rule)
            if changed is stored.rule:
                return stored
            now = self.clock.now()
            revision = await self.rules.save(changed, expected_revision=stored.revision, now=now)
            if revision is not None:
                await self.evaluator.reload(rule_id)
                return replace(stored, rule=changed, revision=revision, updated_at=now)
        raise Conflict(f"alert rule {rule_id} is changing too often to save: try again")


def rule_of(rule_id: str, owner: str, settings: m.AlertSettings, now: float) -> AlertRule:
    """A new rule, watching from `now` on: history older than its creation (bars a backfill replays) is not
    evaluated for it."""
    fields = {field.name: getattr(settings, field.name) for field in dataclass_fields(settings)}
    fields["condition"] = parse_condition(settings.condition)
    return AlertRule(id=rule_id, owner=owner, memory=AlertMemory(observed_at=now), **fields)


def revised(rule: AlertRule, changes: dict[str, Any]) -> AlertRule:
    if "condition" in changes:
        changes = {**changes, "condition": parse_condition(changes["condition"])}
    return rule.revise(**changes)


class CreateAlertHandler:
    def __init__(self, rules: AlertRules, secrets: Secrets, check: Check) -> None:
        self._rules = rules
        self._secrets = secrets
        self._check = check

    async def __call__(self, command: m.CreateAlertCommand) -> StoredAlertRule:
        now = self._rules.clock.now()
        rule = rule_of(self._secrets.new_id(), command.actor.user_id, command.settings, now)
        rule.check_not_expired(now)
        self._check(rule)
        stored = await self._rules.rules.add(rule, now)
        await self._rules.evaluator.reload(rule.id)
        return stored


class ReviseAlertHandler:
    def __init__(self, rules: AlertRules, check: Check) -> None:
        self._rules = rules
        self._check = check

    async def __call__(self, command: m.ReviseAlertCommand) -> StoredAlertRule:
        def change(rule: AlertRule) -> AlertRule:
            new = revised(rule, dict(command.changes))
            if new.expires_at != rule.expires_at and new.is_active:
                new.check_not_expired(self._rules.clock.now())
            self._check(new)
            return new

        return await self._rules.change(command.actor, command.rule_id, change)


class EnableAlertHandler:
    def __init__(self, rules: AlertRules) -> None:
        self._rules = rules

    async def __call__(self, command: m.EnableAlertCommand) -> StoredAlertRule:
        now = self._rules.clock.now()
        return await self._rules.change(command.actor, command.rule_id,
                                        lambda rule: rule if rule.is_active else rule.enable(now))


class DisableAlertHandler:
    def __init__(self, rules: AlertRules) -> None:
        self._rules = rules

    async def __call__(self, command: m.DisableAlertCommand) -> StoredAlertRule:
        return await self._rules.change(command.actor, command.rule_id,
                                        lambda rule: rule if rule.status is AlertStatus.DISABLED else rule.disable())


class DeleteAlertHandler:
    def __init__(self, rules: AlertRules, triggers: AlertTriggerRepository) -> None:
        self._rules = rules
        self._triggers = triggers

    async def __call__(self, command: m.DeleteAlertCommand) -> None:
        await self._rules.reachable(command.actor, command.rule_id)
        if await self._rules.rules.delete(command.rule_id, now=self._rules.clock.now()):
            await self._triggers.remove_rule(command.rule_id)
        await self._rules.evaluator.reload(command.rule_id)


class ListAlertsHandler:
    def __init__(self, rules: AlertRuleRepository) -> None:
        self._rules = rules

    async def __call__(self, query: m.ListAlertsQuery) -> list[StoredAlertRule]:
        return await self._rules.of_owner(None if query.actor.sees_all else query.actor.user_id, limit=query.limit)


class GetAlertHandler:
    def __init__(self, rules: AlertRules) -> None:
        self._rules = rules

    async def __call__(self, query: m.GetAlertQuery) -> StoredAlertRule:
        return await self._rules.reachable(query.actor, query.rule_id)


class ListAlertTriggersHandler:
    def __init__(self, rules: AlertRules, triggers: AlertTriggerRepository) -> None:
        self._rules = rules
        self._triggers = triggers

    async def __call__(self, query: m.ListAlertTriggersQuery) -> list[AlertTriggeredEvent]:
        await self._rules.reachable(query.actor, query.rule_id)
        return await self._triggers.of_rule(query.rule_id, limit=query.limit)


def servable(sources: frozenset[str], webhooks: bool) -> Check:
    """The check of settings against what this service offers."""

    def check(rule: AlertRule) -> None:
        if rule.source not in sources:
            raise InvalidAlertRule(f"unknown source {rule.source!r}; expected one of {', '.join(sorted(sources))}",
                                   field="source")
        if "webhook" in rule.channels and not webhooks:
            raise InvalidAlertRule("the webhook channel needs WEBHOOK_URLS configured on this service",
                                   field="channels")

    return check
