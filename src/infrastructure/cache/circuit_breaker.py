"""A circuit breaker: remembers that a dependency is down so that callers fail at once instead of each
waiting for its own timeout.

States and what moves between them (the table below is the whole rule):
- closed: calls go through; `failures_to_open` failures in a row open it (a success resets the count), and
  so does a single timeout: a server that does not answer within the timeout is hung or drowning, and
  waiting on it again only doubles what each call costs (errors such as a reset connection are counted,
  because the pool's retry of a connection a restart left dead usually succeeds).
- open: calls fail at once; when the open time is over, one probe is due (the breaker's owner runs it,
  not a caller: no request pays for the probe).
- probing: calls still fail at once; the probe's success closes the breaker, its failure opens it again
  for twice as long (up to `max_open_s`).
A success seen while open (a call that started before it opened and came back) closes it too.
"""

import time
from collections.abc import Callable
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    PROBING = "probing"


class Outcome(StrEnum):
    TOO_MANY_FAILURES = "too many failures"
    OPEN_TIME_OVER = "open time over"
    SUCCESS = "success"
    PROBE_FAILED = "probe failed"


TRANSITIONS: dict[tuple[BreakerState, Outcome], BreakerState] = {
    (BreakerState.CLOSED, Outcome.TOO_MANY_FAILURES): BreakerState.OPEN,
    (BreakerState.OPEN, Outcome.OPEN_TIME_OVER): BreakerState.PROBING,
    (BreakerState.OPEN, Outcome.SUCCESS): BreakerState.CLOSED,
    (BreakerState.PROBING, Outcome.SUCCESS): BreakerState.CLOSED,
    (BreakerState.PROBING, Outcome.PROBE_FAILED): BreakerState.OPEN,
}

OnChange = Callable[[BreakerState, BreakerState, Outcome], None]


class CircuitBreaker:
    def __init__(self, *, failures_to_open: int = 3, open_s: float = 1.0, max_open_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic, on_change: OnChange | None = None) -> None:
        self.failures_to_open = failures_to_open
        self.base_open_s = open_s
        self.max_open_s = max_open_s
        self._clock = clock
        self._on_change = on_change
        self.state = BreakerState.CLOSED
        self.failures = 0  # in a row, while closed
        self.open_s = open_s  # how long the current (or next) open period lasts
        self.open_until = 0.0
        self.rejections = 0  # calls refused while not closed
        self.times_opened = 0

    def allows(self) -> bool:
        """Whether a call may go through now; counts the refusal when it may not."""
        if self.state is BreakerState.CLOSED:
            return True
        self.rejections += 1
        return False

    def probe_due(self) -> bool:
        """True once per open period, when it is over: the caller runs the probe and reports its outcome."""
        if self.state is BreakerState.OPEN and self._clock() >= self.open_until:
            self._move(Outcome.OPEN_TIME_OVER)
            return True
        return False

    def succeeded(self) -> None:
        self.failures = 0
        if self.state is not BreakerState.CLOSED:
            self.open_s = self.base_open_s
            self._move(Outcome.SUCCESS)

    def failed(self, *, timed_out: bool = False) -> None:
        if self.state is BreakerState.CLOSED:
            self.failures += 1
            if timed_out or self.failures >= self.failures_to_open:
                self._open(Outcome.TOO_MANY_FAILURES)
        elif self.state is BreakerState.PROBING:
            self.open_s = min(self.open_s * 2, self.max_open_s)
            self._open(Outcome.PROBE_FAILED)
        # open: calls in flight when it opened keep failing; nothing more to learn from them

    def _open(self, outcome: Outcome) -> None:
        self.failures = 0
        self.open_until = self._clock() + self.open_s
        self.times_opened += 1
        self._move(outcome)

    def _move(self, outcome: Outcome) -> None:
        before = self.state
        self.state = TRANSITIONS[(before, outcome)]
        if self._on_change is not None:
            self._on_change(before, self.state, outcome)
