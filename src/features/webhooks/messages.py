"""Queries and commands of the webhooks slice."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ListDeadLettersQuery:
    """Deliveries that failed after their last retry, newest first."""

    limit: int = 100


@dataclass(frozen=True, slots=True)
class RedeliverDeadLetterCommand:
    """Queue one dead letter for delivery again, with its attempts counted from zero."""

    delivery_id: str


@dataclass(frozen=True, slots=True)
class RedeliverDeadLettersCommand:
    """Queue every dead letter (up to `limit`, newest first) whose URL is still configured."""

    limit: int = 1000
