"""The lifecycle of a series sync, as an explicit transition table."""

from dataclasses import dataclass, replace
from enum import StrEnum

from src.domain.errors import InvalidTransition
from src.domain.market_data.series import SeriesKey


class SyncStatus(StrEnum):
    PENDING = "pending"
    SYNCING = "syncing"
    COMPLETED = "completed"
    ERROR = "error"


TRANSITIONS: dict[SyncStatus, frozenset[SyncStatus]] = {
    SyncStatus.PENDING: frozenset({SyncStatus.SYNCING, SyncStatus.ERROR}),
    SyncStatus.SYNCING: frozenset({SyncStatus.COMPLETED, SyncStatus.ERROR}),
    # A finished sync may be run again.
    SyncStatus.COMPLETED: frozenset({SyncStatus.PENDING}),
    SyncStatus.ERROR: frozenset({SyncStatus.PENDING}),
}


def check_transition(current: SyncStatus, target: SyncStatus) -> None:
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(f"sync cannot go from {current} to {target}", field="status")


@dataclass(frozen=True, slots=True)
class SyncState:
    """Where the sync of one series stands. Times are epoch seconds, passed in by the caller."""

    key: SeriesKey
    status: SyncStatus = SyncStatus.PENDING
    requested_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    bars_written: int = 0
    error: str | None = None

    @classmethod
    def requested(cls, key: SeriesKey, now: float) -> "SyncState":
        return cls(key, SyncStatus.PENDING, requested_at=now)

    def _to(self, target: SyncStatus, **changes: object) -> "SyncState":
        check_transition(self.status, target)
        return replace(self, status=target, **changes)  # type: ignore[arg-type]

    def request(self, now: float) -> "SyncState":
        return self._to(
            SyncStatus.PENDING, requested_at=now, started_at=None, finished_at=None, error=None
        )

    def start(self, now: float) -> "SyncState":
        return self._to(SyncStatus.SYNCING, started_at=now)

    def complete(self, now: float, bars_written: int) -> "SyncState":
        return self._to(SyncStatus.COMPLETED, finished_at=now, bars_written=bars_written)

    def fail(self, now: float, error: str) -> "SyncState":
        return self._to(SyncStatus.ERROR, finished_at=now, error=error)

    @property
    def is_running(self) -> bool:
        return self.status in (SyncStatus.PENDING, SyncStatus.SYNCING)
