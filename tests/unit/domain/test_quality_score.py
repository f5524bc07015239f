"""Running every check, the quality score, scores per source, and the issue events."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from src.domain.quality.events import DataQualityIssueEvent, SeriesIdentity, anomaly_issue, quality_issues_raised
from src.domain.quality.model import CheckResult, QualityThresholds, SeriesColumns, Severity
from src.domain.quality.reconciliation import reconcile
from src.domain.quality.report import WEIGHTS, SeriesScore, aggregate_scores, quality_score, run_checks
from tests.unit.domain.quality_series import MINUTE, T0, columns_from_closes, context, grid, smooth_closes, without

DEFAULTS = QualityThresholds()
CLEAN = columns_from_closes(smooth_closes(1000))
SERIES = SeriesIdentity(source="tradingview", symbol="BINANCE:BTCUSDT", interval="1m")


def _report(columns: SeriesColumns, **overrides: object):
    return run_checks(columns, context(columns, expected_times=grid(CLEAN), **overrides), DEFAULTS)


def _documented_penalty(name: str, affected: int, bars: int) -> float:
    per_percent, cap = {
        "ohlc_sanity": (10, 40), "price_spikes": (10, 30), "future_bars": (10, 30),
        "missing_session_bars": (2, 30), "stale_series": (2, 20), "live_vs_source": (2, 20),
        "zero_volume_runs": (0.5, 15), "flat_bars_runs": (0.5, 15), "level_shifts": (0, 0),
    }[name]
    return 0.0 if not affected or not cap else min(cap, 1 + per_percent * 100 * affected / bars)


def test_a_clean_series_passes_every_check_and_scores_100():
    report = _report(CLEAN)
    assert report.score == 100.0 and report.failed == () and report.anomalies == ()
    assert [r.name for r in report.results] == [
        "ohlc_sanity", "missing_session_bars", "stale_series", "zero_volume_runs", "flat_bars_runs",
        "future_bars", "price_spikes", "level_shifts",
    ]


def test_without_a_calendar_the_missing_bars_check_is_not_run():
    report = run_checks(CLEAN, context(CLEAN), DEFAULTS)
    assert report.result("missing_session_bars") is None and report.score == 100.0


def test_the_score_follows_the_documented_formula():
    closes = smooth_closes(1000)
    closes[500] *= 1.3
    spoiled = without(columns_from_closes(closes), [100, 101])
    report = _report(spoiled)
    bars = len(spoiled)
    expected = 100 - _documented_penalty("price_spikes", 1, bars) - _documented_penalty("missing_session_bars", 2, bars)
    assert report.score == pytest.approx(expected)
    assert {r.name for r in report.failed} == {"price_spikes", "missing_session_bars"}


def test_a_check_takes_off_at_most_its_cap():
    mostly_missing = without(CLEAN, list(range(10, 900)))
    assert _report(mostly_missing).score == pytest.approx(100 - 30)


def test_a_reconciliation_adds_the_live_vs_source_check():
    live = without(CLEAN, [5])
    report = run_checks(live, context(live), DEFAULTS, reconciliation=reconcile(live, CLEAN, DEFAULTS))
    result = report.result("live_vs_source")
    assert result is not None and result.value == 1
    assert report.score == pytest.approx(100 - _documented_penalty("live_vs_source", 1, len(live)))


def test_an_empty_series_scores_100_and_weighs_nothing():
    empty = SeriesColumns.of([], [], [], [], [], [])
    report = run_checks(empty, context(empty, now=T0), DEFAULTS)
    assert report.score == 100.0 and report.bar_count == 0


def test_every_check_has_a_weight():
    report = run_checks(CLEAN, context(CLEAN, expected_times=grid(CLEAN)), DEFAULTS,
                        reconciliation=reconcile(CLEAN, CLEAN, DEFAULTS))
    assert {r.name for r in report.results} == set(WEIGHTS)


checked = st.sampled_from(sorted(WEIGHTS))


@given(st.dictionaries(checked, st.integers(min_value=0, max_value=5000)), checked,
       st.integers(min_value=1, max_value=500), st.integers(min_value=1, max_value=10_000))
def test_adding_affected_bars_never_raises_the_score(affected, worse, more, bars):
    def results(counts: dict[str, int]) -> list[CheckResult]:
        return [CheckResult(name=name, severity=Severity.WARNING, passed=not n, value=float(n), threshold=0.0,
                            affected_bars=n) for name, n in counts.items()]

    before = quality_score(results(affected), bars)
    after = quality_score(results({**affected, worse: affected.get(worse, 0) + more}), bars)
    assert 0.0 <= after <= before <= 100.0
    clean = all(n == 0 or WEIGHTS[name].cap == 0 for name, n in affected.items())
    assert (before == 100.0) == clean


spans = st.tuples(st.integers(min_value=1, max_value=900), st.integers(min_value=1, max_value=10))


@given(st.lists(spans, max_size=3), st.lists(spans, max_size=3), st.lists(spans, max_size=3))
def test_spoiling_a_clean_series_step_by_step_never_raises_its_score(removed, zero_volume, flat):
    """Removing bars (gaps), then zeroing volumes, then flattening bars: each step only adds anomalies."""
    series = CLEAN
    scores = [_report(series).score]
    series = without(series, sorted({i for first, length in removed for i in range(first, first + length)}))
    scores.append(_report(series).score)
    volume = series.volume.copy()
    for first, length in zero_volume:
        volume[first : first + length * 4] = 0
    series = SeriesColumns(series.time, series.open, series.high, series.low, series.close, volume)
    scores.append(_report(series).score)
    prices = [column.copy() for column in (series.open, series.high, series.low, series.close)]
    for first, length in flat:
        for column in prices:
            column[first : first + length * 4] = series.open[first]
    series = SeriesColumns(series.time, *prices, series.volume)
    scores.append(_report(series).score)
    assert scores == sorted(scores, reverse=True) and scores[0] == 100.0


def test_sources_score_the_bar_weighted_mean_of_their_series():
    scores = aggregate_scores([
        SeriesScore("tradingview", 90.0, 100), SeriesScore("tradingview", 50.0, 300),
        SeriesScore("binance", 70.0, 10), SeriesScore("yahoo", 10.0, 0),
    ])
    assert scores == {"tradingview": pytest.approx(60.0), "binance": 70.0}


# --- events ------------------------------------------------------------------------------------------


def _failing_report():
    closes = smooth_closes(1000)
    closes[500] *= 1.3
    return _report(columns_from_closes(closes))


def test_a_newly_failing_check_raises_one_issue_event():
    report = _failing_report()
    (event,) = quality_issues_raised(_report(CLEAN), report, SERIES, occurred_at=5.0, correlation_id="c-1")
    assert isinstance(event, DataQualityIssueEvent)
    assert (event.source, event.symbol, event.interval, event.check, event.severity) == (
        "tradingview", "BINANCE:BTCUSDT", "1m", "price_spikes", Severity.ERROR,
    )
    assert (event.occurred_at, event.correlation_id, event.bar_time) == (5.0, "c-1", T0 + 500 * MINUTE)
    assert "bad tick" in event.detail


def test_a_check_that_keeps_failing_does_not_raise_again():
    report = _failing_report()
    assert quality_issues_raised(report, report, SERIES, occurred_at=6.0) == ()
    assert len(quality_issues_raised(None, report, SERIES, occurred_at=6.0)) == 1


def test_a_live_anomaly_becomes_an_event_with_its_bar():
    anomaly = _failing_report().anomalies[0]
    event = anomaly_issue(anomaly, SERIES, occurred_at=7.0)
    assert (event.check, event.bar_time, event.detail) == ("price_spikes", anomaly.bar_time, anomaly.detail)


def test_issue_events_are_frozen():
    event = anomaly_issue(_failing_report().anomalies[0], SERIES, occurred_at=7.0)
    with pytest.raises(AttributeError):
        event.check = "other"  # type: ignore[misc]

