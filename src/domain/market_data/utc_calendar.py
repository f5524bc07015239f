"""Calendar arithmetic on the UTC grid, in epoch seconds: day, Monday-week, month and year starts.

One implementation serves bar alignment (`Interval`) and the store's chunk periods; the `*_starts` functions
are the same rules over numpy arrays, for whole columns of bar times.
"""

import calendar
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

type Instants = npt.NDArray[np.int64]

DAY = 86_400
WEEK = 7 * DAY
# 1970-01-01 was a Thursday; the first Monday 00:00 UTC after the epoch is 1970-01-05.
_MONDAY_OFFSET = 4 * DAY


def day_start(ts: int) -> int:
    return ts - ts % DAY


def week_start(ts: int) -> int:
    """Monday 00:00 UTC of the week containing `ts`."""
    return ts - (ts - _MONDAY_OFFSET) % WEEK


def month_start(ts: int) -> int:
    moment = datetime.fromtimestamp(ts, UTC)
    return calendar.timegm((moment.year, moment.month, 1, 0, 0, 0))


def add_months(month_start_ts: int, months: int) -> int:
    """The start of the month `months` after the month starting at `month_start_ts`."""
    moment = datetime.fromtimestamp(month_start_ts, UTC)
    index = moment.year * 12 + moment.month - 1 + months
    return calendar.timegm((index // 12, index % 12 + 1, 1, 0, 0, 0))


def year_start(ts: int, every: int = 1) -> int:
    """January 1st 00:00 UTC of the year containing `ts`, rounded down to a multiple of `every` years."""
    year = datetime.fromtimestamp(ts, UTC).year
    return calendar.timegm((year - year % every, 1, 1, 0, 0, 0))


def add_years(year_start_ts: int, years: int) -> int:
    year = datetime.fromtimestamp(year_start_ts, UTC).year
    return calendar.timegm((year + years, 1, 1, 0, 0, 0))


# --- the same starts for arrays of instants (numpy int64 epoch seconds) -------------------------------------


def day_starts(ts: Instants) -> Instants:
    return ts - ts % DAY


def week_starts(ts: Instants) -> Instants:
    return ts - (ts - _MONDAY_OFFSET) % WEEK


def month_starts(ts: Instants) -> Instants:
    return ts.astype("datetime64[s]").astype("datetime64[M]").astype("datetime64[s]").astype(np.int64)


def year_starts(ts: Instants, every: int = 1) -> Instants:
    years = ts.astype("datetime64[s]").astype("datetime64[Y]").astype(np.int64)  # years since 1970
    rounded = (years + 1970) // every * every - 1970
    return rounded.astype("datetime64[Y]").astype("datetime64[s]").astype(np.int64)
