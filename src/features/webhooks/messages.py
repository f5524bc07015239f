"""Queries of the webhooks slice."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ListDeadLettersQuery:
    """Deliveries that failed after their last retry, newest first."""

    limit: int = 100
