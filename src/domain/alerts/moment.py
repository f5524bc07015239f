"""When an observation happened in the market and when it is evaluated.

* A live tick happens and is evaluated at its own time.
* A closed bar's condition becomes true when the bar closes (`at` = the bar's close time) and is
  evaluated at `now`. It is **late** when `now` is at or past the close of the *next* bar: a later bar
  has closed too, so the bar comes from a backfill after an outage, not from the live stream.
* A backfilled bar replayed for tick conditions is walked as the path open, first extreme, second
  extreme (all at the bar's open time), then close (at its close time). A bar that closed up
  (close >= open) is assumed to have made its low before its high; a bar that closed down, its high
  before its low: the usual convention when only OHLC is known.
"""

from dataclasses import dataclass

from src.domain.market_data.bar import OHLCVBar


@dataclass(frozen=True, slots=True)
class Moment:
    at: float  # market time of the observation, epoch seconds
    now: float  # evaluation time from the caller's clock (events' `occurred_at`)
    late: bool = False
    bar_time: int | None = None  # open time of the bar observed, if any

    @classmethod
    def live(cls, at: float) -> "Moment":
        return cls(at, at)

    @classmethod
    def of_bar(cls, bar: OHLCVBar, now: float, at: float | None = None) -> "Moment":
        closes_at = bar.closes_at
        late = now >= bar.interval.next_open(closes_at)
        return cls(closes_at if at is None else at, now, late, bar.time)


def bar_path(bar: OHLCVBar, now: float) -> tuple[tuple[float, Moment], ...]:
    """The prices a backfilled bar is replayed as, each with its moment (see the module rules)."""
    first, second = (bar.low, bar.high) if bar.close >= bar.open else (bar.high, bar.low)
    opened = Moment.of_bar(bar, now, at=bar.time)
    return (bar.open, opened), (first, opened), (second, opened), (bar.close, Moment.of_bar(bar, now))
