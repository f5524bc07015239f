"""The lifecycle of an anomaly flag, as a transition table.

A check flags a bar: the flag is **open**. A user **confirms** it (the bar is bad) or **clears** it (a
false positive). Checks run again on every write, and the flag follows the data:

* flagged again and the bar was not rewritten: no transition; the flag keeps its state and takes the new
  values (a run that grew, a range that widened). A cleared flag stays cleared: the user's verdict was
  about this bar's data, which has not changed;
* flagged again after the bar was rewritten (re-sync, repair, reconciliation): the flag **reopens**
  from any state, because a verdict on other data no longer applies;
* no longer flagged (the bar was repaired, or the thresholds changed): an open or confirmed flag is
  cleared; a cleared one stays cleared.

A user may change their mind (confirmed -> cleared, cleared -> confirmed). Anything else raises
`InvalidTransition`.

Open and confirmed flags exclude the bars they cover (`Anomaly.span`) from queries that ask
`exclude_flagged=true`, except info flags (level shifts are real moves) and findings about the series
rather than its stored bars (missing bars, a stale series).
"""

from dataclasses import dataclass, replace
from enum import StrEnum

from src.domain.errors import InvalidTransition
from src.domain.quality.model import Anomaly, Severity


class FlagState(StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"
    CLEARED = "cleared"


class FlagChange(StrEnum):
    CONFIRMED_BY_USER = "confirmed_by_user"
    CLEARED_BY_USER = "cleared_by_user"
    FLAGGED_AFTER_REWRITE = "flagged_after_rewrite"
    NO_LONGER_FLAGGED = "no_longer_flagged"


_OPEN, _CONFIRMED, _CLEARED = FlagState.OPEN, FlagState.CONFIRMED, FlagState.CLEARED
_ABOUT_THE_SERIES = frozenset({"missing_session_bars", "stale_series"})

TRANSITIONS: dict[tuple[FlagState, FlagChange], FlagState] = {
    (_OPEN, FlagChange.CONFIRMED_BY_USER): _CONFIRMED,
    (_OPEN, FlagChange.CLEARED_BY_USER): _CLEARED,
    (_OPEN, FlagChange.FLAGGED_AFTER_REWRITE): _OPEN,
    (_OPEN, FlagChange.NO_LONGER_FLAGGED): _CLEARED,
    (_CONFIRMED, FlagChange.CLEARED_BY_USER): _CLEARED,
    (_CONFIRMED, FlagChange.FLAGGED_AFTER_REWRITE): _OPEN,
    (_CONFIRMED, FlagChange.NO_LONGER_FLAGGED): _CLEARED,
    (_CLEARED, FlagChange.CONFIRMED_BY_USER): _CONFIRMED,
    (_CLEARED, FlagChange.FLAGGED_AFTER_REWRITE): _OPEN,
}


def next_state(state: FlagState, change: FlagChange) -> FlagState:
    target = TRANSITIONS.get((state, change))
    if target is None:
        raise InvalidTransition(f"an anomaly flag that is {state} cannot be {change}", field="state")
    return target


@dataclass(frozen=True, slots=True, kw_only=True)
class AnomalyFlag:
    """A flagged bar as stored: the latest finding, its state, why and when it last changed (epoch s)."""

    anomaly: Anomaly
    state: FlagState
    flagged_at: int
    changed_at: int
    last_change: FlagChange | None = None

    @classmethod
    def raised(cls, anomaly: Anomaly, now: int) -> "AnomalyFlag":
        return cls(anomaly=anomaly, state=FlagState.OPEN, flagged_at=now, changed_at=now)

    @property
    def key(self) -> tuple[str, int]:
        return (self.anomaly.check, self.anomaly.bar_time)

    @property
    def excluded_span(self) -> tuple[int, int] | None:
        """First and last open time of the bars that `exclude_flagged=true` leaves out, if any."""
        anomaly = self.anomaly
        if self.state is FlagState.CLEARED or anomaly.severity is Severity.INFO or anomaly.check in _ABOUT_THE_SERIES:
            return None
        return anomaly.span

    def _to(self, change: FlagChange, now: int, anomaly: Anomaly | None = None) -> "AnomalyFlag":
        return replace(
            self, state=next_state(self.state, change), changed_at=now, last_change=change,
            anomaly=anomaly or self.anomaly,
        )

    def confirm(self, now: int) -> "AnomalyFlag":
        return self._to(FlagChange.CONFIRMED_BY_USER, now)

    def clear(self, now: int) -> "AnomalyFlag":
        return self._to(FlagChange.CLEARED_BY_USER, now)

    def after_check(self, finding: Anomaly | None, *, bar_rewritten: bool, now: int) -> "AnomalyFlag":
        """The flag after a check run: `finding` is this run's anomaly for the same check and bar, if any;
        `bar_rewritten` tells whether the write before the run changed the bar's data."""
        if finding is None:
            return self if self.state is FlagState.CLEARED else self._to(FlagChange.NO_LONGER_FLAGGED, now)
        if bar_rewritten:
            return self._to(FlagChange.FLAGGED_AFTER_REWRITE, now, finding)
        return self if finding == self.anomaly else replace(self, anomaly=finding)
