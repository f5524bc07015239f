from src.domain.realtime.feed_lag import WINDOW_S, FeedLag


def test_the_lag_is_the_smallest_among_recent_ticks_once_two_arrived():
    lag = FeedLag()
    lag.observe(100.0, 103.0)
    assert lag.lag(103.0) is None  # one tick is no evidence
    lag.observe(101.0, 110.0)  # a late burst does not raise it
    assert lag.lag(110.0) == 3.0


def test_old_observations_leave_the_window():
    lag = FeedLag()
    lag.observe(100.0, 1_000.0)
    lag.observe(100.0, 1_001.0)
    assert lag.lag(1_001.0) == 900.0
    assert lag.lag(1_001.0 + WINDOW_S + 20) is None


def test_a_trade_stamped_after_its_arrival_counts_as_no_lag():
    lag = FeedLag()
    lag.observe(10.0, 9.5)
    lag.observe(11.0, 10.5)
    assert lag.lag(11.0) == 0.0
