"""What a sync fetches so that a series holds the newest `n_bars` bars its source has.

Terms. A *slot* is the open time of a bar the series' `SessionCalendar` expects. A *candidate* is a slot
that is not inside a known source gap (a stretch where the source confirmed it has no bars), not before
the start of the source's history and not after the newest bar the source has (both learned during a
sync). The *window* is the newest `n_bars` candidates at `now`; its newest slot is the forming bar.

Rules (each has a test named for it):

* **Missing.** A candidate is missing unless a complete bar is stored at it: a partial bar counts as
  missing, so a complete bar from the source replaces it. With `refresh`, every candidate is missing.
* **Overlap.** The first round of a sync also fetches the newest stored bar of the window and every slot
  after it, and at least the newest `OVERLAP_BARS` slots: they may have been stored while still forming.
  Nothing else that is stored is fetched.
* **Runs and cost.** Missing candidates form runs of consecutive candidates. Neighbouring runs are
  fetched as one when that takes no more requests than fetching them apart (a request returns at most
  `page` bars), so holes cost few requests wherever they are.
* **Fetch kinds.** The run that reaches the newest candidate is fetched by count (the newest `slots`
  bars of the source, which also answers how far back history goes); every other run by time range.
* **Learning.** After a fetch, candidates inside what the source answered for that did not come back are
  source gaps. A count fetch answers for [its oldest bar, its newest bar]; fewer bars than asked means
  the source's history starts at its oldest bar (`first_bar`, kept with the series). A range fetch answers
  for its whole range; a range that returns nothing and lies before every bar known marks the start of
  history for this sync only (`history_start`: it might be a long source gap). Slots after the newest bar
  the source returned are not gaps: they have not traded yet.
* **Rounds.** A sync repeats plan → fetch → learn (without the overlap) until nothing is missing, a
  round learns nothing, or `MAX_ROUNDS` is reached: a window whose source has holes grows backwards
  until it holds `n_bars` bars.

Everything here is pure: times come in as numpy int64 arrays of epoch seconds, `now` is passed in.
"""

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from src.domain.market_data.calendar import SessionCalendar
from src.domain.market_data.interval import Interval
from src.domain.sync.status import Gaps

type Times = npt.NDArray[np.int64]

OVERLAP_BARS = 2
MAX_ROUNDS = 6
MAX_GAPS = 5_000  # source gaps remembered per series (the newest ones)
_EMPTY: Times = np.zeros(0, np.int64)
_WIDEST_STEP = 31 * 86_400


@dataclass(frozen=True, slots=True)
class Fetch:
    """One request to the source: slots `start`..`end` (inclusive), `slots` candidates among them."""

    start: int
    end: int
    slots: int
    newest: bool  # by count: the newest `slots` bars; else by range [start, end]


@dataclass(frozen=True, slots=True)
class SyncPlan:
    window: tuple[int, int] | None  # (oldest, newest) candidate, None when there is none
    fetches: tuple[Fetch, ...]
    missing: int  # candidates to fetch (the overlap included)

    @property
    def done(self) -> bool:
        return not self.fetches


@dataclass(frozen=True, slots=True)
class Bounds:
    """What a sync has learned so far about where the source's bars are."""

    gaps: Gaps = ()
    first_bar: int | None = None  # the source said its history starts here
    history_start: int | None = None  # no bars before this, as far as this sync saw
    newest: int | None = None  # no bars after this (yet)

    @property
    def floor(self) -> int:
        return max(0, self.first_bar or 0, self.history_start or 0)


@dataclass(frozen=True, slots=True)
class Learned:
    gaps: Gaps
    history_start: int | None = None
    first_bar: int | None = None


# --- the window ----------------------------------------------------------------------------------------


def window(calendar: SessionCalendar, interval: Interval, n_bars: int, now: int, bounds: Bounds) -> Times:
    """The newest `n_bars` candidates at `now`, oldest first (fewer when history is shorter)."""
    if n_bars < 1:
        raise ValueError("n_bars must be >= 1")
    end = now if bounds.newest is None else min(now, bounds.newest)
    floor = bounds.floor
    span = n_bars * (interval.seconds or _WIDEST_STEP) + _gap_length(bounds.gaps)
    while True:
        start = max(floor, end - span)
        candidates = without_gaps(calendar.bar_times(interval, start, end), bounds.gaps)
        candidates = candidates[(candidates >= floor) & (candidates <= end)]
        if len(candidates) >= n_bars or start == floor:
            return candidates[-n_bars:]
        span *= 2


def without_gaps(slots: Times, gaps: Gaps) -> Times:
    """`slots` minus those inside any gap (gaps sorted, disjoint, inclusive)."""
    if not gaps or not len(slots):
        return slots
    firsts = np.fromiter((a for a, _ in gaps), np.int64, len(gaps))
    lasts = np.fromiter((b for _, b in gaps), np.int64, len(gaps))
    index = np.searchsorted(firsts, slots, side="right") - 1
    inside = (index >= 0) & (slots <= lasts[np.maximum(index, 0)])
    return slots[~inside]


def _gap_length(gaps: Gaps) -> int:
    return sum(b - a for a, b in gaps)


# --- the plan ------------------------------------------------------------------------------------------


def plan(candidates: Times, complete: Times, *, page: int, overlap: bool = True, refresh: bool = False) -> SyncPlan:
    """The fetches that make every candidate stored; `complete` holds the times of complete stored bars."""
    if page < 1:
        raise ValueError("page must be >= 1")
    if not len(candidates):
        return SyncPlan(None, (), 0)
    missing = np.ones(len(candidates), bool) if refresh else ~np.isin(candidates, complete)
    if overlap:
        missing[_overlap_from(candidates, complete):] = True
    runs = merged(_runs(np.flatnonzero(missing)), page)
    newest = len(candidates) - 1
    fetches = tuple(
        Fetch(int(candidates[i]), int(candidates[j]), j - i + 1, newest=j == newest) for i, j in runs
    )
    return SyncPlan((int(candidates[0]), int(candidates[-1])), fetches, int(missing.sum()))


def _overlap_from(candidates: Times, complete: Times) -> int:
    """Index of the first slot the overlap refreshes: the newest stored one, at most OVERLAP_BARS back."""
    stored = np.flatnonzero(np.isin(candidates, complete))
    tail = max(0, len(candidates) - OVERLAP_BARS)
    return min(tail, int(stored[-1])) if len(stored) else tail


def _runs(positions: npt.NDArray[np.intp]) -> list[tuple[int, int]]:
    """Consecutive positions as inclusive (first, last) index pairs."""
    if not len(positions):
        return []
    breaks = np.flatnonzero(np.diff(positions) > 1)
    firsts = np.concatenate(([positions[0]], positions[breaks + 1]))
    lasts = np.concatenate((positions[breaks], [positions[-1]]))
    return [(int(a), int(b)) for a, b in zip(firsts, lasts, strict=True)]


def merged(runs: Sequence[tuple[int, int]], page: int) -> list[tuple[int, int]]:
    """Neighbouring runs joined whenever one request span costs no more requests than the two apart."""
    out: list[tuple[int, int]] = []
    for run in runs:
        if out and _cost(out[-1][0], run[1], page) <= _cost(*out[-1], page) + _cost(*run, page):
            out[-1] = (out[-1][0], run[1])
        else:
            out.append(run)
    return out


def _cost(first: int, last: int, page: int) -> int:
    return -(-(last - first + 1) // page)


# --- learning ------------------------------------------------------------------------------------------


def learn(fetch: Fetch, candidates: Times, returned: Times, asked: int, oldest_known: int | None) -> Learned:
    """The gaps (and the start of history) a fetch's answer reveals; `returned` sorted bar times."""
    if fetch.newest:
        return _learn_newest(candidates, returned, asked)
    if not len(returned):
        before_all = oldest_known is None or fetch.end < oldest_known
        if before_all:
            return Learned((), history_start=fetch.end + 1)
    return Learned(_unreturned(candidates, returned, fetch.start, fetch.end))


def _learn_newest(candidates: Times, returned: Times, asked: int) -> Learned:
    """The source's newest `len(returned)` bars are all it has in [returned[0], returned[-1]]."""
    if not len(returned):
        return Learned(())  # the source has nothing: nothing to learn about where
    first = int(returned[0]) if len(returned) < asked else None
    return Learned(_unreturned(candidates, returned, int(returned[0]), int(returned[-1])), first_bar=first)


def _unreturned(candidates: Times, returned: Times, first: int, last: int) -> Gaps:
    span = candidates[(candidates >= first) & (candidates <= last)]
    absent = span[~np.isin(span, returned)]
    return _stretches(candidates, absent)


def _stretches(candidates: Times, absent: Times) -> Gaps:
    """Absent candidates as inclusive stretches of consecutive candidates."""
    if not len(absent):
        return ()
    positions = np.searchsorted(candidates, absent)
    return tuple((int(candidates[a]), int(candidates[b])) for a, b in _runs(positions))


def merge_gaps(known: Gaps, new: Iterable[tuple[int, int]], *, keep_from: int | None = None) -> Gaps:
    """Known and new gaps as sorted, disjoint stretches (overlapping or touching ones joined); those
    ending before `keep_from` are dropped, and only the newest MAX_GAPS are kept."""
    ordered = sorted(itertools.chain(known, new))
    out: list[tuple[int, int]] = []
    for first, last in ordered:
        if out and first <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], last))
        else:
            out.append((first, last))
    kept = [g for g in out if keep_from is None or g[1] >= keep_from]
    return tuple(kept[-MAX_GAPS:])


def advance(bounds: Bounds, answers: Sequence[tuple[Fetch, Times]], candidates: Times,
            oldest_stored: int | None) -> Bounds:
    """`bounds` after a round whose fetches got `answers` (each fetch with the sorted times it returned);
    `oldest_stored` is the series' oldest stored bar before the round, if any."""
    known = [int(returned[0]) for _, returned in answers if len(returned)]
    if oldest_stored is not None:
        known.append(oldest_stored)
    oldest_known = min(known, default=None)
    gaps: list[tuple[int, int]] = []
    first, history, newest = bounds.first_bar, bounds.history_start, bounds.newest
    for fetch, returned in answers:
        found = learn(fetch, candidates, returned, fetch.slots, oldest_known)
        gaps.extend(found.gaps)
        history = _latest(history, found.history_start)
        first = _latest(first, found.first_bar)
        if fetch.newest and len(returned):
            newest = int(returned[-1])
    return Bounds(merge_gaps(bounds.gaps, gaps), first, history, newest)


def _latest(current: int | None, found: int | None) -> int | None:
    if found is None:
        return current
    return found if current is None else max(current, found)
