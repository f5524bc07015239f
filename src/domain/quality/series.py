"""`SeriesQuality`: what is kept about one series' quality between check runs — its latest results and score,
its anomaly flags, a bounded history of scores, what the source sent that could not be stored, and the
live-built bars waiting to be reconciled with the source.

Rules:
* **A run replaces the results and merges the flags** (`after_run`): every anomaly of the run is matched
  to the stored flag of the same check and bar (`AnomalyFlag.key`); a matched flag follows
  `AnomalyFlag.after_check` (the bar counts as rewritten when it lies in `rewritten`, the span the write
  before the run covered); a new finding opens a flag; a stored flag the run did not find again is told
  so (`after_check(None)`). Flags are never dropped, so a user's verdict and the record of what was found
  survive repairs; the oldest cleared flags give way first when a series holds more than `max_flags`.
* **A run judges only the checks it ran**: the result and flags of a check the run did not include (the
  reconciliation's `live_vs_source`, which runs only after a reconciliation) stay as they were and keep
  counting in the score, which is recomputed over the merged results.
* **Live findings** (`with_live_findings`) open flags for anomalies found on closed bars, leaving known
  flags as they are (the next full run updates them).
* **Announcements**: a run announces (`DataQualityIssueEvent`) only the checks not `announced()` yet.
* **History**: each run appends (time, score, bars, failed checks); only the newest `history_size` are kept.
* **Excluded spans** (`excluded_spans`): the first/last bar times of open and confirmed flags that exclude
  bars (`AnomalyFlag.excluded_span`), sorted and merged, for `exclude_flagged=true`.
"""

from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from src.domain.quality.flags import AnomalyFlag, FlagState
from src.domain.quality.model import Anomaly, CheckResult
from src.domain.quality.reconciliation import FieldDifference, Reconciliation
from src.domain.quality.report import QualityReport, quality_score
from src.domain.quality.spikes import MoveScales

type Span = tuple[int, int]


@dataclass(frozen=True, slots=True, kw_only=True)
class ScorePoint:
    checked_at: int
    score: float
    bar_count: int
    failed: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconciliationRecord:
    """The outcome of one reconciliation of live bars with the source's: how many bars were compared and
    differed, per field, and how many live bars the policy replaced."""

    reconciled_at: int
    first_bar_time: int
    last_bar_time: int
    compared_bars: int
    differing_bars: int
    fields: tuple[FieldDifference, ...]
    policy: str
    bars_replaced: int

    @classmethod
    def of(cls, reconciliation: Reconciliation, *, span: Span, now: int, policy: str,
           replaced: int) -> "ReconciliationRecord":
        return cls(
            reconciled_at=now, first_bar_time=span[0], last_bar_time=span[1],
            compared_bars=reconciliation.compared_bars, differing_bars=reconciliation.differing_bars,
            fields=reconciliation.fields, policy=policy, bars_replaced=replaced,
        )


def _within(span: Span, rewritten: Span | None) -> bool:
    return rewritten is not None and span[0] <= rewritten[1] and rewritten[0] <= span[1]


@dataclass(frozen=True, slots=True, kw_only=True)
class SeriesQuality:
    checked_at: int | None = None
    bar_count: int = 0
    score: float = 100.0
    results: tuple[CheckResult, ...] = ()  # without their anomalies: those live on as `flags`
    scales: MoveScales = field(default_factory=MoveScales)
    has_volume: bool = False
    flags: tuple[AnomalyFlag, ...] = ()
    history: tuple[ScorePoint, ...] = ()
    rejected_upstream: int = 0  # bars the source sent that could not be stored, over every sync
    live_since: int | None = None  # the first live-built bar not reconciled with the source yet
    reconciliation: ReconciliationRecord | None = None

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(result.name for result in self.results if not result.passed)

    def with_rejected(self, count: int) -> "SeriesQuality":
        return replace(self, rejected_upstream=self.rejected_upstream + count) if count else self

    def announced(self) -> frozenset[str]:
        """The checks whose problem was already announced: failed at the last run, or with open or confirmed
        flags (found live since), so a run announces only checks that newly fail."""
        flagged = {flag.anomaly.check for flag in self.flags if flag.state is not FlagState.CLEARED}
        return frozenset({*self.failed, *flagged})

    def last_report(self) -> QualityReport | None:
        """The last run as a report, without its anomalies (they live on as the flags)."""
        if self.checked_at is None:
            return None
        return QualityReport(checked_at=self.checked_at, bar_count=self.bar_count, score=self.score,
                             results=self.results, scales=self.scales, has_volume=self.has_volume)

    def after_run(
        self, report: QualityReport, *, rewritten: Span | None, history_size: int, max_flags: int
    ) -> "SeriesQuality":
        now = report.checked_at
        ran = {result.name for result in report.results}
        found = {(anomaly.check, anomaly.bar_time): anomaly for anomaly in report.anomalies}
        flags = [
            flag if flag.anomaly.check not in ran else
            flag.after_check(found.pop(flag.key, None), bar_rewritten=_within(flag.anomaly.span, rewritten), now=now)
            for flag in self.flags
        ]
        flags += [AnomalyFlag.raised(anomaly, now) for anomaly in found.values()]
        results = (*(replace(result, anomalies=()) for result in report.results),
                   *(result for result in self.results if result.name not in ran))
        score = quality_score(results, report.bar_count)
        point = ScorePoint(checked_at=now, score=score, bar_count=report.bar_count,
                           failed=tuple(result.name for result in results if not result.passed))
        return replace(
            self, checked_at=now, bar_count=report.bar_count, score=score, results=results, scales=report.scales,
            has_volume=report.has_volume, flags=_bounded(flags, max_flags),
            history=(*self.history, point)[-history_size:],
        )

    def with_live_findings(self, anomalies: tuple[Anomaly, ...], *, now: int, max_flags: int) -> "SeriesQuality":
        known = {flag.key for flag in self.flags}
        new = [AnomalyFlag.raised(anomaly, now) for anomaly in anomalies
               if (anomaly.check, anomaly.bar_time) not in known]
        return replace(self, flags=_bounded([*self.flags, *new], max_flags)) if new else self

    def judged(self, check: str, bar_time: int, *, confirm: bool, now: int) -> "SeriesQuality | None":
        """A user's verdict on the flag of `check` at `bar_time`: confirmed (the bar is bad) or cleared;
        None when the series has no such flag."""
        for at, flag in enumerate(self.flags):
            if flag.key == (check, bar_time):
                judged = flag.confirm(now) if confirm else flag.clear(now)
                return replace(self, flags=(*self.flags[:at], judged, *self.flags[at + 1:]))
        return None

    def excluded_spans(self) -> tuple[Span, ...]:
        spans = sorted(span for flag in self.flags if (span := flag.excluded_span) is not None)
        merged: list[Span] = []
        for first, last in spans:
            if merged and first <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], last))
            else:
                merged.append((first, last))
        return tuple(merged)

    def live_started(self, bar_time: int) -> "SeriesQuality":
        """A live-built bar closed: the reconciliation owes the source a comparison from the earliest one."""
        if self.live_since is not None and self.live_since <= bar_time:
            return self
        return replace(self, live_since=bar_time)

    def reconciled(self, record: ReconciliationRecord, *, next_live: int | None) -> "SeriesQuality":
        """Reconciled up to `record.last_bar_time`; `next_live` is the first live bar after it, if any."""
        return replace(self, reconciliation=record, live_since=next_live)


def _bounded(flags: list[AnomalyFlag], max_flags: int) -> tuple[AnomalyFlag, ...]:
    """At most `max_flags`: the oldest cleared flags give way first, then the oldest others."""
    if len(flags) <= max_flags:
        return tuple(flags)
    cleared = sorted((f for f in flags if f.state is FlagState.CLEARED), key=lambda f: f.changed_at)
    others = sorted((f for f in flags if f.state is not FlagState.CLEARED), key=lambda f: f.flagged_at)
    dropped = {id(f) for f in [*cleared, *others][: len(flags) - max_flags]}
    return tuple(f for f in flags if id(f) not in dropped)


def outside(times: npt.NDArray[np.int64], spans: tuple[Span, ...]) -> npt.NDArray[np.bool_]:
    """Per time, whether it lies outside every span (`spans` sorted and disjoint, as `excluded_spans` gives)."""
    if not spans:
        return np.ones(len(times), np.bool_)
    firsts = np.fromiter((first for first, _ in spans), np.int64, len(spans))
    lasts = np.fromiter((last for _, last in spans), np.int64, len(spans))
    at = np.searchsorted(firsts, times, side="right") - 1
    inside = (at >= 0) & (times <= lasts[np.maximum(at, 0)])
    return ~inside
