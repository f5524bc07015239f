"""Reconciliation of live-built bars with the source's history of the same period."""

import pytest

from src.domain.quality.model import QualityThresholds
from src.domain.quality.reconciliation import (
    ReconciliationPolicy,
    bars_to_write,
    live_vs_source,
    reconcile,
)
from tests.unit.domain.quality_series import (
    MINUTE,
    T0,
    columns_from_closes,
    concat,
    smooth_closes,
    with_values,
    without,
)

SOURCE = columns_from_closes(smooth_closes(60))
DEFAULTS = QualityThresholds()


def _error(live: float, source: float) -> float:
    """The documented relative error, written out."""
    return abs(live - source) / max(abs(live), abs(source)) if live or source else 0.0


def _disagreeing_live():
    """Live bars that differ from the source: two closes off by about 1%, one volume off 0.5% (tolerated)
    and one off 5%; the live series lacks minute 40 and has an extra bar after the source's last."""
    live = with_values(SOURCE, 10, close=float(SOURCE.close[10]) * 1.01, high=float(SOURCE.high[10]) * 1.01)
    live = with_values(live, 20, close=float(SOURCE.close[20]) * 0.99, low=float(SOURCE.low[20]) * 0.99)
    live = with_values(live, 30, volume=float(SOURCE.volume[30]) * 1.005)
    live = with_values(live, 35, volume=float(SOURCE.volume[35]) * 1.05)
    live = without(live, [40])
    extra = columns_from_closes([float(SOURCE.close[-1])], start=int(SOURCE.time[-1]) + MINUTE)
    return concat(live, extra)


def test_identical_live_and_source_bars_reconcile_cleanly():
    result = reconcile(SOURCE, SOURCE, DEFAULTS)
    assert result.compared_bars == 60 and result.differing_bars == 0 and result.anomalies == ()
    assert all(field.differing_bars == 0 and field.max_relative_error == 0 for field in result.fields)
    assert live_vs_source(SOURCE, SOURCE, DEFAULTS).passed


def test_disagreeing_bars_are_counted_per_field_with_their_largest_relative_error():
    live = _disagreeing_live()
    result = reconcile(live, SOURCE, DEFAULTS)
    by_field = {field.field: field for field in result.fields}
    assert {name: field.differing_bars for name, field in by_field.items()} == {
        "open": 0, "high": 1, "low": 1, "close": 2, "volume": 1,
    }
    expected_close_error = max(
        _error(float(SOURCE.close[10]) * 1.01, float(SOURCE.close[10])),
        _error(float(SOURCE.close[20]) * 0.99, float(SOURCE.close[20])),
    )
    assert by_field["close"].max_relative_error == pytest.approx(expected_close_error, rel=1e-12)
    assert by_field["volume"].max_relative_error == pytest.approx(_error(5.0 * 1.05, 5.0), rel=1e-12)
    assert result.compared_bars == 59
    assert result.differing_times.tolist() == [T0 + 10 * MINUTE, T0 + 20 * MINUTE, T0 + 35 * MINUTE]
    assert result.only_source_times.tolist() == [T0 + 40 * MINUTE]
    assert result.only_live_times.tolist() == [T0 + 60 * MINUTE]


def test_each_differing_bar_is_an_anomaly_with_both_values():
    result = live_vs_source(_disagreeing_live(), SOURCE, DEFAULTS)
    assert not result.passed and result.value == 5 and result.affected_bars == 5
    first = result.anomalies[0]
    assert first.bar_time == T0 + 10 * MINUTE
    assert set(first.values) == {"high_live", "high_source", "close_live", "close_source", "max_relative_error"}
    assert first.values["close_source"] == float(SOURCE.close[10])
    assert [a.bar_time for a in result.anomalies] == [T0 + m * MINUTE for m in (10, 20, 35, 60)]


def test_an_error_equal_to_the_tolerance_is_tolerated():
    live = with_values(SOURCE, 5, close=float(SOURCE.close[5]) * 1.001)
    error = _error(float(live.close[5]), float(SOURCE.close[5]))
    at_limit = reconcile(live, SOURCE, QualityThresholds(reconcile_price_tolerance=error))
    below = reconcile(live, SOURCE, QualityThresholds(reconcile_price_tolerance=error * (1 - 1e-9)))
    assert at_limit.differing_bars == 0 and below.differing_times.tolist() == [T0 + 5 * MINUTE]


def test_a_zero_volume_on_one_side_is_a_full_relative_error():
    live = with_values(SOURCE, 5, volume=0.0)
    volume = {field.field: field for field in reconcile(live, SOURCE, DEFAULTS).fields}["volume"]
    assert volume.max_relative_error == 1.0


def test_keep_live_writes_only_the_source_bars_the_live_series_lacks():
    result = reconcile(_disagreeing_live(), SOURCE, DEFAULTS)
    written = bars_to_write(result, SOURCE, ReconciliationPolicy.KEEP_LIVE)
    assert written.time.tolist() == [T0 + 40 * MINUTE]
    assert written.close.tolist() == [float(SOURCE.close[40])]


def test_replace_with_source_also_overwrites_the_differing_live_bars_and_keeps_the_rest():
    result = reconcile(_disagreeing_live(), SOURCE, DEFAULTS)
    written = bars_to_write(result, SOURCE, ReconciliationPolicy.REPLACE_WITH_SOURCE)
    assert written.time.tolist() == [T0 + m * MINUTE for m in (10, 20, 35, 40)]
    assert written.close.tolist() == [float(SOURCE.close[m]) for m in (10, 20, 35, 40)]
