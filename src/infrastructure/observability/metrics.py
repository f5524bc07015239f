"""Prometheus metrics: one `Metrics` object per app, on its own registry (never the global default one),
built by the composition root and passed to the components that count things.

Counters that other components increment are attributes here; components that already keep their own
counters (the EventBus, a cache) are read at scrape time by `observe_counter` instead.
"""

from bisect import bisect_left
from collections.abc import Callable, Iterable
from itertools import accumulate
from typing import Any

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from src.common.event_bus import EventBus


class _ReadCounters(Collector):
    """Counters owned by another object, read when Prometheus scrapes."""

    def __init__(self) -> None:
        self.sources: dict[str, tuple[str, Callable[[], float]]] = {}  # by name: observing twice replaces
        self.labeled: dict[str, tuple[str, str, Callable[[], dict[str, float]]]] = {}
        self.gauges: dict[str, tuple[str, Callable[[], float]]] = {}
        self.labeled_gauges: dict[str, tuple[str, str, Callable[[], dict[str, float]]]] = {}

    def collect(self) -> Iterable[CounterMetricFamily | GaugeMetricFamily]:
        for name, (documentation, read) in list(self.sources.items()):
            yield CounterMetricFamily(name, documentation, value=float(read()))
        for name, (documentation, read) in list(self.gauges.items()):
            yield GaugeMetricFamily(name, documentation, value=float(read()))
        for name, (documentation, label, read_all) in list(self.labeled.items()):
            family = CounterMetricFamily(name, documentation, labels=[label])
            for value, count in read_all().items():
                family.add_metric([value], float(count))
            yield family
        for name, (documentation, label, read_all) in list(self.labeled_gauges.items()):
            gauge = GaugeMetricFamily(name, documentation, labels=[label])
            for value, level in read_all().items():
                gauge.add_metric([value], float(level))
            yield gauge


DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _RequestStats(Collector):
    """Request counts and latency histograms by (method, route template, status), recorded with a dict
    lookup and three int additions: prometheus-client's Counter and Histogram take a lock per update,
    which cost a visible share of a trivial route's throughput. One event loop per process records and
    scrapes, so plain ints are safe."""

    def __init__(self) -> None:
        self._series: dict[tuple[str, str, int], list[Any]] = {}  # key → [count, sum, per-bucket counts]

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        series = self._series.get((method, route, status))
        if series is None:
            series = self._series[(method, route, status)] = [0, 0.0, [0] * (len(DURATION_BUCKETS) + 1)]
        series[0] += 1
        series[1] += seconds
        series[2][bisect_left(DURATION_BUCKETS, seconds)] += 1

    def collect(self) -> Iterable[Any]:
        requests = CounterMetricFamily(
            "http_requests", "HTTP requests by route template and status", labels=["method", "route", "status"]
        )
        durations = HistogramMetricFamily(
            "http_request_duration_seconds", "HTTP request latency by route template", labels=["method", "route"]
        )
        by_route: dict[tuple[str, str], tuple[list[int], float]] = {}
        for (method, route, status), (count, total, buckets) in list(self._series.items()):
            requests.add_metric([method, route, str(status)], count)
            summed, seconds = by_route.get((method, route), ([0] * len(buckets), 0.0))
            by_route[(method, route)] = ([a + b for a, b in zip(summed, buckets, strict=True)], seconds + total)
        for (method, route), (buckets, seconds) in by_route.items():
            cumulative = list(accumulate(buckets))
            bounds = [*(str(b) for b in DURATION_BUCKETS), "+Inf"]
            durations.add_metric([method, route], list(zip(bounds, cumulative, strict=True)), seconds)
        yield requests
        yield durations


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        r = self.registry
        # HTTP edge: per-request figures are kept in plain ints (no locks) and exported at scrape time as
        # `http_requests_total{method,route,status}` and `http_request_duration_seconds{method,route}`.
        self.http = _RequestStats()
        r.register(self.http)
        self.rate_limit_rejections = Counter(
            "rate_limit_rejections", "Requests answered 429 by the rate limiter", registry=r
        )
        self.rate_limit_fail_open = Counter(
            "rate_limit_fail_open", "Requests let through because the shared limiter store failed", registry=r
        )
        self.idempotent_replays = Counter(
            "idempotent_replays", "Stored responses replayed for a repeated Idempotency-Key", registry=r
        )
        self.idempotency_claims_lost = Counter(
            "idempotency_claims_lost", "Idempotent requests that lost their key's lease (cancelled or not stored)",
            registry=r,
        )
        # Market data (counted from BarSyncedEvent / SyncFailedEvent by the root)
        self.syncs = Counter("syncs", "Symbol syncs by outcome", ["outcome"], registry=r)
        # Scheduled jobs (the scheduler reports each run it finishes)
        self.job_runs = Counter("job_runs", "Scheduled job runs this process finished, by job and outcome "
                                "(ok, partial, failed, error, interrupted)", ["job_name", "outcome"], registry=r)
        # Webhooks
        self.webhook_deliveries = Counter(
            "webhook_deliveries", "Webhook deliveries by outcome (delivered, retried, dead_letter)",
            ["outcome"], registry=r,
        )
        self._read = _ReadCounters()
        r.register(self._read)

    # --- counters kept elsewhere --------------------------------------------------------------------

    def observe_counter(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        """Export a counter another object keeps (e.g. `lambda: cache.hits`) as `<name>_total`."""
        self._read.sources[name] = (documentation, read)

    def observe_gauge(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        """Export a value another object keeps (e.g. whether a circuit is open), read at scrape time."""
        self._read.gauges[name] = (documentation, read)

    def observe_labeled_counter(
        self, name: str, documentation: str, label: str, read: Callable[[], dict[str, float]]
    ) -> None:
        """Export counters another object keeps per label value (e.g. reconnects per source)."""
        self._read.labeled[name] = (documentation, label, read)

    def observe_labeled_gauge(
        self, name: str, documentation: str, label: str, read: Callable[[], dict[str, float]]
    ) -> None:
        """Export a level another object keeps per label value (e.g. each source's circuit state)."""
        self._read.labeled_gauges[name] = (documentation, label, read)

    def observe_event_bus(self, bus: EventBus) -> None:
        self.observe_counter("eventbus_deliveries", "Events delivered to subscribers", lambda: bus.delivered)
        self.observe_counter(
            "eventbus_subscriber_failures", "Event subscribers that raised", lambda: bus.failed
        )

    def observe_cache(self, *, hits: Callable[[], float], misses: Callable[[], float]) -> None:
        self.observe_counter("cache_hits", "Cache lookups that found a value", hits)
        self.observe_counter("cache_misses", "Cache lookups that found nothing", misses)

    # --- per request --------------------------------------------------------------------------------

    def record_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Called once per request by the outermost middleware."""
        self.http.record(method, route, status, seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)

