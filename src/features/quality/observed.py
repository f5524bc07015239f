"""What the quality slice counts for Prometheus: anomalies newly flagged (by check), the bars they cover,
full runs and reconciliations, and each series' and source's latest score (seeded from the store at start)."""

from collections import Counter
from collections.abc import Iterable

from src.domain.market_data import SeriesKey
from src.domain.quality import SeriesScore, aggregate_scores
from src.domain.quality.model import Anomaly
from src.domain.quality.series import ReconciliationRecord, SeriesQuality


def covered_bars(anomaly: Anomaly) -> int:
    """Bars a finding covers: a run's or missing range's length, else its one bar."""
    return int(anomaly.values.get("bars", 1)) if anomaly.last_bar_time is not None else 1


class QualityFigures:
    def __init__(self) -> None:
        self.anomalies: Counter[str] = Counter()
        self.flagged_bars = 0
        self.runs = 0
        self.reconciliations = 0
        self.differing_live_bars = 0
        self._scores: dict[SeriesKey, SeriesScore] = {}

    def seed(self, records: Iterable[tuple[SeriesKey, SeriesQuality]]) -> None:
        for key, record in records:
            if record.checked_at is not None:
                self._scores[key] = SeriesScore(key.source, record.score, record.bar_count)

    def ran(self, key: SeriesKey, before: SeriesQuality, after: SeriesQuality) -> None:
        self.runs += 1
        self._scores[key] = SeriesScore(key.source, after.score, after.bar_count)
        self.flagged(before, after)

    def flagged(self, before: SeriesQuality, after: SeriesQuality) -> None:
        known = {flag.key for flag in before.flags}
        self.found([flag.anomaly for flag in after.flags if flag.key not in known])

    def found(self, anomalies: Iterable[Anomaly]) -> None:
        """Newly flagged findings."""
        for anomaly in anomalies:
            self.anomalies[anomaly.check] += 1
            self.flagged_bars += covered_bars(anomaly)

    def reconciled(self, record: ReconciliationRecord) -> None:
        self.reconciliations += 1
        self.differing_live_bars += record.differing_bars

    def series_scores(self) -> dict[str, float]:
        return {str(key): score.score for key, score in self._scores.items()}

    def source_scores(self) -> dict[str, float]:
        return aggregate_scores(self._scores.values())
