"""Scheduled jobs as slices declare them: a name, when it runs, and what it runs. The scheduler adapter
turns the triggers into its own; slices never import it."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Every:
    """Runs every `seconds`, the first time one period after the job is first scheduled (its schedule is kept
    in the job store, across restarts)."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Cron:
    """Cron fields in UTC, as in crontab (`day_of_week="mon-fri"`, `hour="9-17"`, `minute="0"`)."""

    day_of_week: str = "*"
    hour: str = "*"
    minute: str = "0"


Trigger = Every | Cron


@dataclass(frozen=True, slots=True)
class JobSpec:
    name: str
    trigger: Trigger
    run: Callable[[], Awaitable[Any]]  # returns a summary with an `outcome` attribute, or anything


@dataclass(frozen=True, slots=True)
class JobSummary:
    """What a job that works through many series did: how many, how many failed, the first errors."""

    series: int
    succeeded: int
    failed: int
    errors: tuple[str, ...]

    @property
    def outcome(self) -> str:
        if self.failed == 0:
            return "ok"
        return "failed" if self.succeeded == 0 else "partial"
