"""The circuit breaker's rules (`src/domain/sources/circuit.py`), one test per rule, and its table."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from src.domain.errors import InvalidTransition
from src.domain.sources import TRANSITIONS, Admission, BreakerPolicy, CircuitBreaker, CircuitState, Signal
from src.domain.sources.circuit import next_state

POLICY = BreakerPolicy(failure_threshold=3, open_for_s=30.0, probe_retry_s=2.0)
CLOSED, OPEN, HALF_OPEN = CircuitState.CLOSED, CircuitState.OPEN, CircuitState.HALF_OPEN


def opened(at: float = 100.0) -> CircuitBreaker:
    breaker = CircuitBreaker(POLICY)
    for _ in range(POLICY.failure_threshold):
        breaker = breaker.failed(at)
    return breaker


def test_the_transition_table_is_exactly_this():
    assert TRANSITIONS == {
        (CLOSED, Signal.SUCCESS): CLOSED, (CLOSED, Signal.FAILURE): CLOSED, (CLOSED, Signal.THRESHOLD_REACHED): OPEN,
        (OPEN, Signal.SUCCESS): OPEN, (OPEN, Signal.FAILURE): OPEN, (OPEN, Signal.THRESHOLD_REACHED): OPEN,
        (OPEN, Signal.COOL_DOWN_ELAPSED): HALF_OPEN,
        (HALF_OPEN, Signal.SUCCESS): CLOSED, (HALF_OPEN, Signal.FAILURE): OPEN,
        (HALF_OPEN, Signal.THRESHOLD_REACHED): OPEN,
    }


@pytest.mark.parametrize("state", list(CircuitState))
@pytest.mark.parametrize("signal", list(Signal))
def test_every_pair_outside_the_table_is_an_invalid_transition(state, signal):
    if (state, signal) in TRANSITIONS:
        assert next_state(state, signal) is TRANSITIONS[(state, signal)]
    else:
        with pytest.raises(InvalidTransition):
            next_state(state, signal)


def test_closed_lets_every_request_pass():
    breaker = CircuitBreaker(POLICY).failed(1.0)
    assert breaker.admit(2.0) == (breaker, Admission.PASS)


def test_consecutive_failures_below_the_threshold_keep_it_closed_and_a_success_resets_them():
    breaker = CircuitBreaker(POLICY).failed(1.0).failed(2.0)
    assert (breaker.state, breaker.failures) == (CLOSED, 2)
    breaker = breaker.succeeded().failed(3.0).failed(4.0)
    assert (breaker.state, breaker.failures) == (CLOSED, 2)


def test_the_failure_reaching_the_threshold_opens_it():
    breaker = opened(at=100.0)
    assert (breaker.state, breaker.opened_at, breaker.times_opened) == (OPEN, 100.0, 1)


def test_open_refuses_with_the_time_left():
    breaker = opened(at=100.0)
    assert breaker.admit(110.0) == (breaker, Admission.REFUSE)
    assert breaker.retry_after(110.0) == pytest.approx(20.0)


def test_the_first_request_after_the_open_period_is_the_probe():
    breaker, admission = opened(at=100.0).admit(130.0)
    assert (admission, breaker.state, breaker.probing) == (Admission.PROBE, HALF_OPEN, True)


def test_half_open_refuses_others_while_the_probe_is_in_flight():
    breaker, _ = opened(at=100.0).admit(130.0)
    assert breaker.admit(131.0) == (breaker, Admission.REFUSE)
    assert breaker.retry_after(131.0) == POLICY.probe_retry_s


def test_the_probes_success_closes_it():
    breaker, _ = opened(at=100.0).admit(130.0)
    closed = breaker.succeeded()
    assert (closed.state, closed.failures, closed.probing, closed.opened_at) == (CLOSED, 0, False, None)
    assert closed.admit(131.0)[1] is Admission.PASS


def test_the_probes_failure_opens_it_again_for_another_period():
    breaker, _ = opened(at=100.0).admit(130.0)
    reopened = breaker.failed(131.0)
    assert (reopened.state, reopened.opened_at, reopened.times_opened) == (OPEN, 131.0, 2)
    assert reopened.admit(160.0)[1] is Admission.REFUSE
    assert reopened.admit(161.0)[1] is Admission.PROBE


def test_an_abandoned_probe_lets_the_next_request_probe():
    breaker, _ = opened(at=100.0).admit(130.0)
    breaker = breaker.abandoned()
    assert (breaker.state, breaker.probing) == (HALF_OPEN, False)
    assert breaker.admit(131.0)[1] is Admission.PROBE


def test_late_answers_change_nothing_while_open():
    breaker = opened(at=100.0)
    assert breaker.succeeded() == breaker
    assert breaker.failed(120.0) == breaker


@given(st.lists(st.sampled_from(["ok", "fail", "admit"]), max_size=60), st.floats(min_value=0.5, max_value=40))
def test_the_circuit_opens_only_after_threshold_failures_in_a_row_and_refuses_only_when_not_closed(steps, dt):
    breaker, now, in_a_row = CircuitBreaker(POLICY), 0.0, 0
    for step in steps:
        now += dt
        before = breaker
        if step == "ok":
            breaker, in_a_row = breaker.succeeded(), 0
        elif step == "fail":
            breaker = breaker.failed(now)
            in_a_row += 1
            if before.state is CLOSED and breaker.state is OPEN:
                assert in_a_row >= POLICY.failure_threshold
        else:
            breaker, admission = breaker.admit(now)
            assert (admission is Admission.PASS) == (before.state is CLOSED)
        assert breaker.state in set(CircuitState)
