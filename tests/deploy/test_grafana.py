"""Grafana's provisioning and dashboards: the datasource is the compose file's Prometheus, the dashboards
folder is the one mounted, the files are what the generator writes, and every panel's metrics are exported
by the service — except metrics marked as not exported yet, which must say so and must indeed be absent."""

import importlib.util

import pytest

from tests.deploy.promql import PROMETHEUS_BUILTINS, exported_metric_names, metric_names
from tests.deploy.repo import ROOT, dashboards, in_repository, load_yaml, services

PROVISIONING = ROOT / "deploy/grafana/provisioning"
DASHBOARDS = dashboards()
PANELS = [(file, panel) for file, dashboard in DASHBOARDS.items() for panel in dashboard["panels"]]


def future_metrics_marker(panel: dict) -> bool:
    return panel["description"].startswith("Not exported yet: ")


def future_metrics(panel: dict) -> set[str]:
    if not future_metrics_marker(panel):
        return set()
    listed = panel["description"].removeprefix("Not exported yet: ").split(" (")[0]
    return {name.strip() for name in listed.split(",")}


def generator():
    spec = importlib.util.spec_from_file_location("generate_dashboards", ROOT / "deploy/grafana/generate_dashboards.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def datasource() -> dict:
    [source] = load_yaml(PROVISIONING / "datasources/prometheus.yml")["datasources"]
    return source


def test_the_datasource_is_the_prometheus_service_of_the_compose_file():
    source = datasource()
    assert source["type"] == "prometheus" and source["url"] == "http://prometheus:9090"
    assert "9090:9090" in services()["prometheus"]["ports"]


def test_grafana_loads_the_dashboards_folder_of_the_repository():
    [provider] = load_yaml(PROVISIONING / "dashboards/pocketquant.yml")["providers"]
    assert in_repository("grafana", provider["options"]["path"]) == (ROOT / "deploy/grafana/dashboards").resolve()
    assert in_repository("grafana", "/etc/grafana/provisioning") == PROVISIONING.resolve()


def test_the_dashboard_files_are_what_the_generator_writes():
    written = {path.name: path.read_text() for path in (ROOT / "deploy/grafana/dashboards").glob("*.json")}
    assert written == generator().rendered(), "run `make dashboards`"


def test_the_dashboards_cover_every_area_with_unique_ids():
    titles = {d["title"] for d in DASHBOARDS.values()}
    for area in ("HTTP", "Syncs", "Live data", "Providers and breakers", "Cache", "Alerts", "Data quality"):
        assert f"PocketQuant / {area}" in titles
    assert len({d["uid"] for d in DASHBOARDS.values()}) == len(DASHBOARDS)
    for dashboard in DASHBOARDS.values():
        assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])


@pytest.mark.parametrize(("file", "panel"), PANELS, ids=[f"{f}:{p['title']}" for f, p in PANELS])
def test_every_panel_queries_the_provisioned_datasource_for_exported_metrics(file, panel):
    uid = datasource()["uid"]
    assert panel["datasource"]["uid"] == uid and all(t["datasource"]["uid"] == uid for t in panel["targets"])
    used = set().union(*(metric_names(t["expr"]) for t in panel["targets"]))
    future = future_metrics(panel)
    unknown = used - exported_metric_names() - PROMETHEUS_BUILTINS - future
    assert not unknown, f"{file} '{panel['title']}' uses metrics the service does not export: {unknown}"
    assert future <= used, f"{file} '{panel['title']}' marks metrics it does not chart: {future - used}"


FUTURE_PANELS = [(f, p) for f, p in PANELS if future_metrics_marker(p)]


@pytest.mark.parametrize(("file", "panel"), FUTURE_PANELS, ids=[f"{f}:{p['title']}" for f, p in FUTURE_PANELS])
def test_panels_of_metrics_not_exported_yet_say_so_and_the_metrics_are_indeed_absent(file, panel):
    future = future_metrics(panel)
    assert panel["title"].endswith("(not exported yet)")
    assert all(name in DASHBOARDS[file]["description"] for name in future)
    assert not future & exported_metric_names(), (
        f"{future & exported_metric_names()} are exported now: drop `future` from '{panel['title']}' in "
        "deploy/grafana/generate_dashboards.py and run `make dashboards`")
