"""Commands and Queries of the system slice: health and scheduled jobs."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class GetHealthQuery:
    """Every component's check, each bounded by the configured timeout."""


@dataclass(frozen=True, slots=True)
class ListJobsQuery:
    """Each scheduled job with its trigger, next run and last run."""


@dataclass(frozen=True, slots=True)
class RunJobCommand:
    name: str
