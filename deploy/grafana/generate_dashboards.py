"""Writes the Grafana dashboards of `deploy/grafana/dashboards/` from the panel lists below (`make dashboards`;
`--check` only reports whether the files are current). Standard library only.

One dashboard per area: HTTP, syncs, live data, providers and breakers, cache, alerts, data quality. Every
query filters on the `role` variable (the label Prometheus' scrape config gives each PocketQuant role).
A panel charting a metric the service does not export yet lists it in `future`: its title ends with
"(not exported yet)", its description and the dashboard's name the metric. tests/deploy checks every other
metric name against what the service exports, and that the future ones are indeed not exported yet.
"""

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).parent / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}
R = 'role=~"$role"'
WINDOW = "[$__rate_interval]"
FUTURE_TITLE = " (not exported yet)"
FUTURE_NOTE = "Not exported yet: "


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""


@dataclass(frozen=True)
class Panel:
    title: str
    queries: tuple[Query, ...]
    unit: str = "short"
    description: str = ""
    future: tuple[str, ...] = ()
    kind: str = "timeseries"


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    description: str
    panels: tuple[Panel, ...]


def rate(metric: str, matchers: str = "", by: str = "") -> str:
    selector = f"{metric}{{{', '.join(m for m in (matchers, R) if m)}}}"
    grouping = f" by ({by})" if by else ""
    return f"sum{grouping} (rate({selector}{WINDOW}))"


def quantile(q: float, histogram: str, by: str = "") -> str:
    return f"histogram_quantile({q}, sum by (le{', ' + by if by else ''}) (rate({histogram}{{{R}}}{WINDOW})))"


HTTP = Dashboard("pocketquant-http", "PocketQuant / HTTP", "Requests, errors and latency of every role's HTTP server, "
                 "and the edge: rate limiting and idempotent replays.", (
    Panel("Processes up by role", (Query(f'sum by (role) (up{{job=~"pocketquant-.*", {R}}})', "{{role}}"),),
          kind="stat", description="Scrape targets answering, per role (docker-compose: api 2, collector 2, "
          "scheduler 1)."),
    Panel("Requests per second by route", (Query(rate("http_requests_total", by="route"), "{{route}}"),), "reqps"),
    Panel("Responses by status", (Query(rate("http_requests_total", by="status"), "{{status}}"),), "reqps"),
    Panel("5xx ratio", (Query(f"{rate('http_requests_total', 'status=~\"5..\"')} / {rate('http_requests_total')}",
                              "5xx"),), "percentunit"),
    Panel("Latency p50 and p99 by route", (
        Query(quantile(0.5, "http_request_duration_seconds_bucket", "route"), "p50 {{route}}"),
        Query(quantile(0.99, "http_request_duration_seconds_bucket", "route"), "p99 {{route}}"),
    ), "s"),
    Panel("Rate limiting", (
        Query(rate("rate_limit_rejections_total"), "rejected (429)"),
        Query(rate("rate_limit_fail_open_total"), "let through: limiter store failing"),
    ), "reqps"),
    Panel("Idempotent replays", (Query(rate("idempotent_replays_total"), "replayed"),), "reqps"),
))

SYNCS = Dashboard("pocketquant-syncs", "PocketQuant / Syncs", "Syncs by outcome, what they cost the store, and "
                  "what they publish (events, webhooks).", (
    Panel("Syncs by outcome", (Query(rate("syncs_total", by="outcome"), "{{outcome}}"),), "ops"),
    Panel("Failed syncs in the last hour", (
        Query(f'sum(increase(syncs_total{{outcome!="completed", {R}}}[1h]))', "failed"),), kind="stat"),
    Panel("Store documents read per second", (Query(rate("store_documents_read_total", by="instance"),
                                                     "{{instance}}"),), "ops"),
    Panel("Store write conflicts (retried)", (Query(rate("store_write_conflicts_total", by="instance"),
                                                    "{{instance}}"),), "ops"),
    Panel("Webhook deliveries by outcome", (Query(rate("webhook_deliveries_total", by="outcome"), "{{outcome}}"),),
          "ops"),
    Panel("Event bus", (
        Query(rate("eventbus_deliveries_total"), "delivered"),
        Query(rate("eventbus_subscriber_failures_total"), "subscriber failures"),
    ), "ops"),
    Panel("Sync duration p95", (Query(quantile(0.95, "sync_duration_seconds_bucket", "interval"), "{{interval}}"),),
          "s", future=("sync_duration_seconds_bucket",)),
    Panel("Scheduled job runs by outcome", (
        Query(f"sum by (job_name, outcome) (increase(job_runs_total{{{R}}}[1h]))", "{{job_name}} {{outcome}}"),)),
))

LIVE = Dashboard("pocketquant-live", "PocketQuant / Live data", "Ticks turned into live bars, and the WebSocket "
                 "clients they are streamed to.", (
    Panel("Ticks aggregated per second", (Query(rate("quote_ticks_aggregated_total", by="instance"),
                                                 "{{instance}}"),), "ops"),
    Panel("WebSocket clients dropped (too slow)", (Query(rate("quotes_ws_clients_dropped_total", by="instance"),
                                                         "{{instance}}"),), "ops"),
    Panel("Quote cache write failures", (Query(rate("quote_cache_write_failures_total", by="instance"),
                                               "{{instance}}"),), "ops"),
    Panel("WebSocket clients connected", (Query(f"sum by (instance) (quotes_ws_clients{{{R}}})", "{{instance}}"),),
          future=("quotes_ws_clients",)),
    Panel("Live bars completed by interval", (Query(rate("live_bars_completed_total", by="interval"),
                                                    "{{interval}}"),), "ops", future=("live_bars_completed_total",)),
    Panel("Tick to client latency p99", (Query(quantile(0.99, "quote_tick_to_client_seconds_bucket"), "p99"),), "s",
          future=("quote_tick_to_client_seconds_bucket",)),
    Panel("Active collector (holds the lease)", (Query(f"max by (instance) (collector_leading{{{R}}})",
                                                       "{{instance}}"),), description="1 on the one collector "
          "that owns the live sessions; a standby takes over within COLLECTOR_LEASE_S."),
    Panel("Cross-process stream entries", (
        Query(rate("cluster_stream_entries_read_total", by="instance"), "read {{instance}}"),
        Query(rate("cluster_stream_entries_dropped_total", by="instance"), "dropped {{instance}}")), "ops"),
))

PROVIDERS = Dashboard("pocketquant-providers", "PocketQuant / Providers and breakers", "The data sources: live "
                      "connections, refused or unreachable upstream, circuit breakers.", (
    Panel("Live connection reconnects by source", (Query(rate("provider_reconnections_total", by="source"),
                                                         "{{source}}"),), "ops"),
    Panel("Syncs refused or unreachable upstream", (
        Query(rate("syncs_total", 'outcome=~"upstream_unavailable|not_found"', by="outcome"), "{{outcome}}"),), "ops"),
    Panel("Circuit breaker state by source", (Query(f"max by (source) (provider_breaker_state{{{R}}})",
                                                    "{{source}}"),), description="0 closed, 1 half-open, 2 open.",
          future=("provider_breaker_state",)),
    Panel("Upstream requests by outcome", (Query(rate("provider_requests_total", by="source, outcome"),
                                                 "{{source}} {{outcome}}"),), "reqps",
          future=("provider_requests_total",)),
    Panel("Upstream latency p95", (Query(quantile(0.95, "provider_request_duration_seconds_bucket", "source"),
                                         "{{source}}"),), "s", future=("provider_request_duration_seconds_bucket",)),
))

CACHE = Dashboard("pocketquant-cache", "PocketQuant / Cache", "Query-result cache: hit ratio, and the share served "
                  "by each worker's near cache in front of Redis.", (
    Panel("Hit ratio", (Query(f"{rate('cache_hits_total')} / ({rate('cache_hits_total')} + "
                              f"{rate('cache_misses_total')})", "hits"),), "percentunit"),
    Panel("Hits and misses per second", (
        Query(rate("cache_hits_total"), "hits"), Query(rate("cache_misses_total"), "misses"),), "ops"),
    Panel("Near-cache share of hits", (Query(f"{rate('cache_near_hits_total')} / {rate('cache_hits_total')}",
                                             "near"),), "percentunit",
          description="With Redis only: hits answered from the worker's memory."),
))

ALERTS = Dashboard("pocketquant-alerts", "PocketQuant / Alerts", "The Prometheus alert rules of "
                   "deploy/prometheus/alerts.yml, and the service's own price and indicator alerts.", (
    Panel("Prometheus alerts firing", (
        Query('sum by (alertname) (ALERTS{alertstate="firing", alertname=~"PocketQuant.*"})', "{{alertname}}"),)),
    Panel("Prometheus alerts pending", (
        Query('sum by (alertname) (ALERTS{alertstate="pending", alertname=~"PocketQuant.*"})', "{{alertname}}"),)),
    Panel("Alert rules evaluated per second", (Query(rate("alert_evaluations_total"), "evaluated"),), "ops"),
    Panel("Alert rules by state", (Query(f"sum by (state) (alert_rules{{{R}}})", "{{state}}"),)),
    Panel("Alert deliveries by channel", (Query(f"sum by (channel) (increase(alert_deliveries_total{{{R}}}[1h]))",
                                                "{{channel}}"),)),
    Panel("Alert state write conflicts and failures", (
        Query(f"sum(increase(alert_write_conflicts_total{{{R}}}[1h]))", "conflicts"),
        Query(f"sum(increase(alert_write_failures_total{{{R}}}[1h]))", "failures"))),
    Panel("Alert evaluation latency p99", (Query(quantile(0.99, "alert_evaluation_seconds_bucket"), "p99"),), "s",
          future=("alert_evaluation_seconds_bucket",)),
))

QUALITY = Dashboard("pocketquant-quality", "PocketQuant / Data quality", "Checks of stored and live bars: "
                    "anomalies by check, scores, flagged bars, reconciliations of live bars.", (
    Panel("Anomalies found by check", (Query(f"sum by (check) (increase(quality_anomalies_total{{{R}}}[1h]))",
                                             "{{check}}"),)),
    Panel("Lowest quality score", (Query(f"min by (source) (quality_score{{{R}}})", "{{source}}"),),
          description="Each source's score (0-100): its series' latest scores weighted by their bars."),
    Panel("Bars flagged per second", (Query(rate("quality_flagged_bars_total"), "flagged"),), "ops"),
    Panel("Worst series", (Query(f"bottomk(10, min by (series) (quality_series_score{{{R}}}))", "{{series}}"),),
          description="The ten lowest series scores (0-100)."),
    Panel("Live bars differing from the source", (
        Query(f"sum (increase(quality_live_bars_differing_total{{{R}}}[1h]))", "differing"),
        Query(f"sum (increase(quality_reconciliations_total{{{R}}}[1h]))", "reconciliations"),
    ), description="Per hour: live-built bars that differed from the source's bars, and reconciliations run."),
))

DASHBOARDS = (HTTP, SYNCS, LIVE, PROVIDERS, CACHE, ALERTS, QUALITY)


def role_variable() -> dict[str, Any]:
    query = 'label_values(up{job=~"pocketquant-.*"}, role)'
    return {
        "name": "role", "label": "role", "type": "query", "datasource": DATASOURCE,
        "query": {"query": query, "refId": "role"}, "definition": query, "includeAll": True, "multi": True,
        "allValue": ".*", "current": {"selected": True, "text": ["All"], "value": ["$__all"]}, "refresh": 2,
        "sort": 1,
    }


def panel_json(panel: Panel, number: int) -> dict[str, Any]:
    description = panel.description
    if panel.future:
        description = f"{FUTURE_NOTE}{', '.join(panel.future)} (named for the work that will export it). " + description
    body: dict[str, Any] = {
        "id": number, "type": panel.kind, "title": panel.title + (FUTURE_TITLE if panel.future else ""),
        "description": description.strip(), "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": 12, "x": 12 * ((number - 1) % 2), "y": 8 * ((number - 1) // 2)},
        "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
        "targets": [{"refId": chr(ord("A") + i), "datasource": DATASOURCE, "expr": q.expr, "legendFormat": q.legend}
                    for i, q in enumerate(panel.queries)],
    }
    body["options"] = _options(panel.kind)
    return body


def _options(kind: str) -> dict[str, Any]:
    if kind == "stat":
        return {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}, "colorMode": "value",
                "graphMode": "area"}
    return {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
            "tooltip": {"mode": "multi", "sort": "desc"}}


def dashboard_json(dashboard: Dashboard) -> dict[str, Any]:
    future = [name for panel in dashboard.panels for name in panel.future]
    description = dashboard.description
    if future:
        description += f" Panels marked \"{FUTURE_TITLE.strip()}\" chart metrics the service does not export yet: "
        description += ", ".join(future) + "."
    return {
        "uid": dashboard.uid, "title": dashboard.title, "description": description, "tags": ["pocketquant"],
        "timezone": "utc", "schemaVersion": 39, "version": 1, "editable": False, "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"}, "templating": {"list": [role_variable()]},
        "annotations": {"list": []},
        "links": [{"title": "PocketQuant", "type": "dashboards", "tags": ["pocketquant"], "asDropdown": True}],
        "panels": [panel_json(panel, number) for number, panel in enumerate(dashboard.panels, start=1)],
    }


def rendered() -> dict[str, str]:
    """File name → JSON text of every dashboard."""
    return {f"{d.uid}.json": json.dumps(dashboard_json(d), indent=2) + "\n" for d in DASHBOARDS}


def main(argv: list[str]) -> int:
    files = rendered()
    stale = [name for name, text in files.items()
             if not (OUTPUT / name).exists() or (OUTPUT / name).read_text() != text]
    if "--check" in argv:
        print("stale: " + ", ".join(stale) if stale else "dashboards are current")
        return 1 if stale else 0
    OUTPUT.mkdir(exist_ok=True)
    for name, text in files.items():
        (OUTPUT / name).write_text(text)
    print(f"wrote {len(files)} dashboards to {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
