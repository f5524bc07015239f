"""Errors of the alerts domain. Each names the field at fault, as the HTTP edge reports it.

Kept here rather than in `src/domain/errors.py` so the alerts slice owns its vocabulary; an invalid state
change raises the shared `src.domain.errors.InvalidTransition`."""

from src.domain.errors import DomainError


class InvalidAlertRule(DomainError):
    """A rule's own fields break an invariant (cooldown, expiry, channels, interval...)."""


class InvalidCondition(DomainError):
    """A condition is malformed: unknown kind, missing or mistyped field, value out of range."""


class UnknownIndicator(InvalidCondition):
    """A condition names an indicator (or moving average type) that alerts cannot evaluate."""


class MissingIndicatorValue(DomainError):
    """A closed bar was evaluated without a value for an indicator its rule declared it needs."""


class UnknownAlertRule(DomainError):
    """The alert book holds no rule with this id."""


class DuplicateAlertRule(DomainError):
    """The alert book already holds a rule with this id."""
