"""The lifecycle of a series sync, as an explicit transition table, and the rules of run ownership.

Rules (each has a test named for it):

* **Transitions.** pending → syncing | error | interrupted; syncing → completed | error | interrupted;
  completed, error and interrupted → pending (a finished sync may be run again). Nothing else.
* **Revision.** Every change of a state (a transition or a lease renewal) gives it the next `revision`; a
  store saves a state only over the revision it was derived from, so two writers never overwrite each other.
* **Owner and lease.** A run (pending or syncing) names its `owner` (a process) and holds a lease until
  `lease_until`; the owner renews it while the run lives.
* **Abandoned runs.** A run is abandoned when its lease has expired or its owner is known to be gone; an
  abandoned run is marked interrupted (at start-up and whenever it is seen), never left reading "syncing".
* **Live runs of others.** A run that is neither finished nor abandoned and belongs to another owner is
  never overwritten: a request for that series is refused (`claim` returns None).
* **What the source has.** A completed run records the stretches inside its window where the source
  confirmed it has no bars (`source_gaps`) and where its history starts (`source_first_bar`), so later
  syncs do not ask for them again (a refresh asks anyway).
"""

from dataclasses import dataclass, replace
from enum import StrEnum

from src.domain.errors import InvalidTransition
from src.domain.market_data.series import SeriesKey

type Gaps = tuple[tuple[int, int], ...]  # inclusive (first, last) bar open times


class SyncStatus(StrEnum):
    PENDING = "pending"
    SYNCING = "syncing"
    COMPLETED = "completed"
    ERROR = "error"
    INTERRUPTED = "interrupted"


TRANSITIONS: dict[SyncStatus, frozenset[SyncStatus]] = {
    SyncStatus.PENDING: frozenset({SyncStatus.SYNCING, SyncStatus.ERROR, SyncStatus.INTERRUPTED}),
    SyncStatus.SYNCING: frozenset({SyncStatus.COMPLETED, SyncStatus.ERROR, SyncStatus.INTERRUPTED}),
    # A finished sync may be run again.
    SyncStatus.COMPLETED: frozenset({SyncStatus.PENDING}),
    SyncStatus.ERROR: frozenset({SyncStatus.PENDING}),
    SyncStatus.INTERRUPTED: frozenset({SyncStatus.PENDING}),
}
RUNNING = frozenset({SyncStatus.PENDING, SyncStatus.SYNCING})
INTERRUPTED = "interrupted before it finished"
OWNER_GONE = "interrupted: its process is gone"


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
    owner: str | None = None
    lease_until: float | None = None
    revision: int = 0
    source_gaps: Gaps = ()
    source_first_bar: int | None = None

    @classmethod
    def requested(cls, key: SeriesKey, now: float, owner: str | None = None, lease_s: float = 0.0) -> "SyncState":
        return cls(key, SyncStatus.PENDING, requested_at=now, owner=owner, lease_until=_until(owner, now, lease_s),
                   revision=1)

    def _to(self, target: SyncStatus, **changes: object) -> "SyncState":
        check_transition(self.status, target)
        return replace(self, status=target, revision=self.revision + 1, **changes)  # type: ignore[arg-type]

    def request(self, now: float, owner: str | None = None, lease_s: float = 0.0) -> "SyncState":
        return self._to(SyncStatus.PENDING, requested_at=now, started_at=None, finished_at=None, error=None,
                        owner=owner, lease_until=_until(owner, now, lease_s))

    def start(self, now: float, lease_s: float = 0.0) -> "SyncState":
        return self._to(SyncStatus.SYNCING, started_at=now, lease_until=_until(self.owner, now, lease_s))

    def renew(self, now: float, lease_s: float) -> "SyncState":
        """The owner extends its lease (no transition)."""
        return replace(self, lease_until=_until(self.owner, now, lease_s), revision=self.revision + 1)

    def complete(self, now: float, bars_written: int, source_gaps: Gaps | None = None,
                 source_first_bar: int | None = None) -> "SyncState":
        gaps = self.source_gaps if source_gaps is None else source_gaps
        first = self.source_first_bar if source_first_bar is None else source_first_bar
        return self._to(SyncStatus.COMPLETED, finished_at=now, bars_written=bars_written, lease_until=None,
                        source_gaps=gaps, source_first_bar=first)

    def fail(self, now: float, error: str) -> "SyncState":
        return self._to(SyncStatus.ERROR, finished_at=now, error=error, lease_until=None)

    def interrupt(self, now: float, reason: str) -> "SyncState":
        return self._to(SyncStatus.INTERRUPTED, finished_at=now, error=reason, lease_until=None)

    @property
    def is_running(self) -> bool:
        return self.status in RUNNING

    def abandoned(self, now: float, owner_gone: bool) -> bool:
        """A run whose owner is gone, or whose lease expired without renewal."""
        if not self.is_running:
            return False
        return owner_gone or self.owner is None or self.lease_until is None or self.lease_until <= now


def claim(current: SyncState | None, key: SeriesKey, *, owner: str, now: float, lease_s: float,
          owner_gone: bool) -> SyncState | None:
    """The pending state of a new run of `key` by `owner`, or None while another owner's live run holds it.
    Our own pending request is the run's; our own syncing state that nobody runs any more (the caller runs
    one sync per series at a time) and an abandoned run are interrupted first."""
    if current is None:
        return SyncState.requested(key, now, owner, lease_s)
    if current.is_running:
        ours = current.owner == owner
        if ours and current.status is SyncStatus.PENDING:
            return current
        if not ours and not current.abandoned(now, owner_gone):
            return None
        current = current.interrupt(now, INTERRUPTED if ours else OWNER_GONE)
    return current.request(now, owner, lease_s)


def _until(owner: str | None, now: float, lease_s: float) -> float | None:
    return None if owner is None else now + lease_s
