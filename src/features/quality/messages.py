"""Commands and Queries of the quality slice: plain immutable requests built by the routes and the job."""

from dataclasses import dataclass

from src.domain.market_data import SeriesKey
from src.domain.quality import FlagState


@dataclass(frozen=True, slots=True)
class CheckSeriesQualityCommand:
    """Run every check over the stored series now; returns its `SeriesQuality`."""

    key: SeriesKey


@dataclass(frozen=True, slots=True)
class ReconcileLiveBarsCommand:
    """Compare the series' live-built bars with the source's and apply the reconciliation policy."""

    key: SeriesKey


@dataclass(frozen=True, slots=True)
class JudgeFlagCommand:
    """A user's verdict on one flag: `confirm` (the bar is bad) or not (cleared: a false positive)."""

    key: SeriesKey
    check: str
    bar_time: int
    confirm: bool


@dataclass(frozen=True, slots=True)
class GetSeriesQualityQuery:
    """One series' quality: score, checks, a page of its flags (newest bar first), its score history."""

    key: SeriesKey
    offset: int = 0
    limit: int = 100
    state: FlagState | None = None
    check: str | None = None
    history: int = 50


@dataclass(frozen=True, slots=True)
class GetQualitySummaryQuery:
    """Every series checked, worst score first, and each source's score."""

    source: str | None = None
    limit: int = 100


@dataclass(frozen=True, slots=True)
class CheckAllSeriesCommand:
    """The scheduled run: every tracked or already checked series, reconciling those that owe it."""
