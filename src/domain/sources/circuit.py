"""A data source's circuit breaker: the transition table, and the immutable breaker that follows it.

Rules (each has a test named for it):

* **Closed**: every request passes. Each failure adds one to the count of consecutive failures; a success
  resets it. The failure that brings the count to `failure_threshold` opens the circuit.
* **Open**: requests are refused at once, with the time left until `open_for_s` has passed since it opened.
  The first request after that time is let through as the *probe* and the circuit is half-open.
* **Half-open**: only the probe is in flight; every other request is refused (retry after `probe_retry_s`).
  The probe's success closes the circuit; its failure opens it again for another `open_for_s`. A probe that
  ends without an answer (cancelled) lets the next request probe instead.
* **Late answers**: a request let through while closed may finish after the circuit opened; its answer
  changes nothing while open (only a probe leads out of it). While half-open, any success closes the circuit
  (the source answered) and any failure opens it again.
* Failures are what the caller counts as the source failing (unreachable, timing out, refusing); an answer
  such as "unknown symbol" is a success: the source is up.

Times are epoch or monotonic seconds passed in by the caller; nothing here reads a clock.
"""

from dataclasses import dataclass, replace
from enum import StrEnum

from src.domain.errors import InvalidTransition


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class Signal(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"  # a failure below the threshold
    THRESHOLD_REACHED = "threshold_reached"  # the failure that makes `failure_threshold` in a row
    COOL_DOWN_ELAPSED = "cool_down_elapsed"  # a request arrives once the open period is over


TRANSITIONS: dict[tuple[CircuitState, Signal], CircuitState] = {
    (CircuitState.CLOSED, Signal.SUCCESS): CircuitState.CLOSED,
    (CircuitState.CLOSED, Signal.FAILURE): CircuitState.CLOSED,
    (CircuitState.CLOSED, Signal.THRESHOLD_REACHED): CircuitState.OPEN,
    (CircuitState.OPEN, Signal.SUCCESS): CircuitState.OPEN,  # a late answer: only the probe decides
    (CircuitState.OPEN, Signal.FAILURE): CircuitState.OPEN,
    (CircuitState.OPEN, Signal.THRESHOLD_REACHED): CircuitState.OPEN,
    (CircuitState.OPEN, Signal.COOL_DOWN_ELAPSED): CircuitState.HALF_OPEN,
    (CircuitState.HALF_OPEN, Signal.SUCCESS): CircuitState.CLOSED,
    (CircuitState.HALF_OPEN, Signal.FAILURE): CircuitState.OPEN,
    (CircuitState.HALF_OPEN, Signal.THRESHOLD_REACHED): CircuitState.OPEN,
}


def next_state(current: CircuitState, signal: Signal) -> CircuitState:
    target = TRANSITIONS.get((current, signal))
    if target is None:
        raise InvalidTransition(f"a {current} circuit has no transition on {signal}", field="state")
    return target


class Admission(StrEnum):
    PASS = "pass"  # closed: go ahead
    PROBE = "probe"  # half-open: go ahead as the one probe, and report how it ended
    REFUSE = "refuse"  # open, or a probe is already in flight


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    failure_threshold: int = 5
    open_for_s: float = 30.0
    probe_retry_s: float = 1.0  # what a request refused while the probe is in flight is told to wait

    def __post_init__(self) -> None:
        if self.failure_threshold < 1:
            raise ValueError("failure_threshold must be >= 1")
        if self.open_for_s <= 0 or self.probe_retry_s <= 0:
            raise ValueError("open_for_s and probe_retry_s must be > 0")


@dataclass(frozen=True, slots=True)
class CircuitBreaker:
    policy: BreakerPolicy = BreakerPolicy()
    state: CircuitState = CircuitState.CLOSED
    failures: int = 0  # consecutive, while closed
    opened_at: float | None = None
    probing: bool = False  # half-open: the probe is in flight
    times_opened: int = 0

    def _to(self, signal: Signal, **changes: object) -> "CircuitBreaker":
        return replace(self, state=next_state(self.state, signal), **changes)  # type: ignore[arg-type]

    def admit(self, now: float) -> tuple["CircuitBreaker", Admission]:
        """Whether a request may go to the source now, and the breaker after letting it (or not)."""
        if self.state is CircuitState.CLOSED:
            return self, Admission.PASS
        if self.state is CircuitState.OPEN:
            if now < self._reopens_at:
                return self, Admission.REFUSE
            return self._to(Signal.COOL_DOWN_ELAPSED, probing=True), Admission.PROBE
        if self.probing:
            return self, Admission.REFUSE
        return replace(self, probing=True), Admission.PROBE

    def succeeded(self) -> "CircuitBreaker":
        if self.state is CircuitState.OPEN:
            return self._to(Signal.SUCCESS)
        return self._to(Signal.SUCCESS, failures=0, opened_at=None, probing=False)

    def failed(self, now: float) -> "CircuitBreaker":
        if self.state is CircuitState.OPEN:
            return self._to(Signal.FAILURE)
        if self.state is CircuitState.HALF_OPEN:
            return self._open(Signal.FAILURE, now)
        failures = self.failures + 1
        if failures < self.policy.failure_threshold:
            return self._to(Signal.FAILURE, failures=failures)
        return self._open(Signal.THRESHOLD_REACHED, now)

    def _open(self, signal: Signal, now: float) -> "CircuitBreaker":
        return self._to(signal, failures=0, opened_at=now, probing=False, times_opened=self.times_opened + 1)

    def abandoned(self) -> "CircuitBreaker":
        """The probe ended without an answer (cancelled): the next request may probe."""
        return replace(self, probing=False) if self.state is CircuitState.HALF_OPEN else self

    def retry_after(self, now: float) -> float:
        """Seconds a refused request should wait: the rest of the open period, or the probe's retry time."""
        if self.state is CircuitState.OPEN:
            return max(self._reopens_at - now, 0.0)
        if self.state is CircuitState.HALF_OPEN and self.probing:
            return self.policy.probe_retry_s
        return 0.0

    @property
    def _reopens_at(self) -> float:
        return (self.opened_at or 0.0) + self.policy.open_for_s
