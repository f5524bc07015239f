"""Metric names in PromQL expressions, and the names the service exports — without promtool.

`metric_names` removes what is not a metric (strings, label matchers, range selectors, `by (...)` label
lists, function and operator words) and keeps the identifiers left. It is a reader for the expressions
this repository writes, not a full PromQL parser.
"""

import re
from functools import cache

from prometheus_client.parser import text_string_to_metric_families

from src.app.root import bootstrap
from src.common.settings import Settings

# Series Prometheus itself creates: scrape health and the alert rules' state.
PROMETHEUS_BUILTINS = frozenset({"up", "ALERTS", "ALERTS_FOR_STATE", "scrape_duration_seconds"})
KEYWORDS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
                      "bool", "offset", "inf", "nan"})
_SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created"),
             "gauge": ("",), "summary": ("", "_sum", "_count", "_created"), "info": ("_info",)}


def metric_names(expr: str) -> set[str]:
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    names = set()
    for match in re.finditer(r"(?<![\w.$])[A-Za-z_:][A-Za-z0-9_:]*", text):
        followed_by_call = text[match.end():].lstrip().startswith("(")
        if not followed_by_call and match.group() not in KEYWORDS:
            names.add(match.group())
    return names


@cache
def exported_metric_names() -> frozenset[str]:
    """Every sample name a fully built service (MongoDB, Redis) exports at `/metrics`, from the root itself:
    building it opens no connection, and a scrape lists every family even before it has samples."""
    root = bootstrap(Settings(mongodb_url="mongodb://127.0.0.1:9", redis_url="redis://127.0.0.1:9/0"))
    families = text_string_to_metric_families(root.metrics.render().decode())
    return frozenset(f.name + suffix for f in families for suffix in _SUFFIXES.get(f.type, ("",)))
