"""The circuit breaker's rules, one test each, and its transition table enumerated."""

import pytest

from src.infrastructure.cache.circuit_breaker import TRANSITIONS, BreakerState, CircuitBreaker, Outcome


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def breaker(clock: Clock, **kwargs) -> CircuitBreaker:
    return CircuitBreaker(failures_to_open=3, open_s=1.0, max_open_s=4.0, clock=clock, **kwargs)


def opened(clock: Clock) -> CircuitBreaker:
    b = breaker(clock)
    for _ in range(3):
        b.failed()
    return b


def test_closed_lets_calls_through(clock):
    assert breaker(clock).allows()


def test_failures_in_a_row_open_it_and_calls_are_refused_and_counted(clock):
    b = breaker(clock)
    b.failed()
    b.failed()
    assert b.state is BreakerState.CLOSED
    b.failed()
    assert b.state is BreakerState.OPEN
    assert not b.allows() and not b.allows()
    assert b.rejections == 2 and b.times_opened == 1


def test_a_single_timeout_opens_it(clock):
    b = breaker(clock)
    b.failed(timed_out=True)
    assert b.state is BreakerState.OPEN


def test_a_timed_out_probe_reopens_it_like_any_failed_probe(clock):
    b = opened(clock)
    clock.now = b.open_until
    b.probe_due()
    b.failed(timed_out=True)
    assert b.state is BreakerState.OPEN and b.open_s == 2.0


def test_a_success_resets_the_count_of_failures_in_a_row(clock):
    b = breaker(clock)
    b.failed()
    b.failed()
    b.succeeded()
    b.failed()
    b.failed()
    assert b.state is BreakerState.CLOSED


def test_a_probe_is_due_once_when_the_open_time_is_over(clock):
    b = opened(clock)
    assert not b.probe_due()
    clock.now += 1.0
    assert b.probe_due()
    assert b.state is BreakerState.PROBING
    assert not b.probe_due()  # one probe at a time
    assert not b.allows()  # callers keep failing fast while it probes


def test_a_successful_probe_closes_it(clock):
    b = opened(clock)
    clock.now += 1.0
    b.probe_due()
    b.succeeded()
    assert b.state is BreakerState.CLOSED and b.allows()


def test_a_failed_probe_reopens_it_for_twice_as_long_up_to_the_maximum(clock):
    b = opened(clock)
    for expected_open_s in (2.0, 4.0, 4.0):
        clock.now = b.open_until
        assert b.probe_due()
        b.failed()
        assert b.state is BreakerState.OPEN
        assert b.open_until == clock.now + expected_open_s
    clock.now = b.open_until
    b.probe_due()
    b.succeeded()
    assert b.open_s == 1.0  # the next outage starts short again


def test_failures_of_calls_already_in_flight_do_not_extend_the_open_time(clock):
    b = opened(clock)
    until = b.open_until
    clock.now += 0.5
    b.failed()
    assert (b.state, b.open_until) == (BreakerState.OPEN, until)


def test_a_late_success_while_open_closes_it(clock):
    b = opened(clock)
    b.succeeded()
    assert b.state is BreakerState.CLOSED


def test_every_change_is_reported_once(clock):
    changes = []
    b = breaker(clock, on_change=lambda before, after, outcome: changes.append((before, after, outcome)))
    for _ in range(5):
        b.failed()
    clock.now += 1.0
    b.probe_due()
    b.succeeded()
    assert changes == [
        (BreakerState.CLOSED, BreakerState.OPEN, Outcome.TOO_MANY_FAILURES),
        (BreakerState.OPEN, BreakerState.PROBING, Outcome.OPEN_TIME_OVER),
        (BreakerState.PROBING, BreakerState.CLOSED, Outcome.SUCCESS),
    ]


@pytest.mark.parametrize("state", list(BreakerState))
@pytest.mark.parametrize("outcome", list(Outcome))
def test_the_transition_table_is_the_whole_rule(state, outcome):
    expected = {
        (BreakerState.CLOSED, Outcome.TOO_MANY_FAILURES): BreakerState.OPEN,
        (BreakerState.OPEN, Outcome.OPEN_TIME_OVER): BreakerState.PROBING,
        (BreakerState.OPEN, Outcome.SUCCESS): BreakerState.CLOSED,
        (BreakerState.PROBING, Outcome.SUCCESS): BreakerState.CLOSED,
        (BreakerState.PROBING, Outcome.PROBE_FAILED): BreakerState.OPEN,
    }
    assert TRANSITIONS.get((state, outcome)) == expected.get((state, outcome))
