"""The PromQL reader the deployment checks rely on, and the exported names it compares with."""

import pytest

from tests.deploy.promql import exported_metric_names, metric_names


@pytest.mark.parametrize(("expr", "names"), [
    ('sum by (route) (rate(http_requests_total{role=~"$role"}[$__rate_interval]))', {"http_requests_total"}),
    ("histogram_quantile(0.99, sum by (le, job) (rate(http_request_duration_seconds_bucket[5m]))) > 1",
     {"http_request_duration_seconds_bucket"}),
    ('sum(increase(a_total{outcome="upstream_unavailable"}[15m])) > 0 and sum(b_total) == 0', {"a_total", "b_total"}),
    ('absent(up{job="pocketquant-scheduler"} == 1)', {"up"}),
    ("sum(rate(x_total[5m])) by (instance) / ignoring(instance) group_left sum(y)", {"x_total", "y"}),
    ('ALERTS{alertstate="firing", alertname=~"PocketQuant.*"}', {"ALERTS"}),
    ("rate(x_total[5m]) offset 1h > 1e3", {"x_total"}),
])
def test_metric_names_are_the_identifiers_that_are_neither_functions_labels_nor_keywords(expr, names):
    assert metric_names(expr) == names


def test_exported_names_follow_the_exposition_suffixes_of_each_family():
    exported = exported_metric_names()
    assert {"http_requests_total", "http_request_duration_seconds_bucket", "http_request_duration_seconds_count",
            "syncs_total", "cache_near_hits_total", "store_documents_read_total", "provider_reconnections_total",
            "quote_ticks_aggregated_total"} <= exported
    assert "http_requests" not in exported and "syncs" not in exported
