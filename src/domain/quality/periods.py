"""Period arithmetic for fixed intervals (`interval_seconds > 0`) and calendar months (`interval_seconds == 0`)."""

from src.domain.market_data.interval import Interval

_MONTH = Interval.MN1


def next_open_after(bar_time: int, interval_seconds: int) -> int:
    """Open time of the grid period after the one opening at `bar_time`."""
    return bar_time + interval_seconds if interval_seconds else _MONTH.next_open(_MONTH.align(bar_time))


def open_before(bar_time: int, interval_seconds: int) -> int:
    """Open time of the grid period before the one opening at `bar_time`."""
    return bar_time - interval_seconds if interval_seconds else _MONTH.align(bar_time - 1)


def period_length_at(moment: int, interval_seconds: int) -> int:
    """Seconds in the period containing `moment`: the interval, or the length of that calendar month."""
    if interval_seconds:
        return interval_seconds
    month_start = _MONTH.align(moment)
    return _MONTH.next_open(month_start) - month_start


def latest_closed_open(now: int, interval_seconds: int) -> int:
    """The latest bar open time whose period has ended by `now`; any open time <= it is a closed bar."""
    if interval_seconds:
        return now - interval_seconds
    return _MONTH.align(now) - 1


def closed_periods_after(last_time: int, now: int, interval_seconds: int) -> int:
    """How many whole periods began after the bar opening at `last_time` and ended by `now` (24x7 grid)."""
    if interval_seconds:
        return max(0, (now - interval_seconds - last_time) // interval_seconds)
    count, start = 0, next_open_after(last_time, 0)
    while _MONTH.next_open(start) <= now:
        count, start = count + 1, _MONTH.next_open(start)
    return count


def periods_between(earlier: int, later: int, interval_seconds: int) -> int:
    """How many grid periods open strictly between two bar open times (the 24x7 bars missing between them)."""
    if interval_seconds:
        return max(0, (later - earlier) // interval_seconds - 1)
    count, start = 0, next_open_after(earlier, 0)
    while start < later:
        count, start = count + 1, _MONTH.next_open(start)
    return count
