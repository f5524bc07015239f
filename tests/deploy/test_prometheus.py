"""Prometheus' configuration against the compose file and the service: every PocketQuant service is scraped
under its role, on the port it serves /metrics on, and every alert rule names metrics that exist."""

import re

import pytest

from src.common.settings import Settings
from tests.deploy.promql import PROMETHEUS_BUILTINS, exported_metric_names, metric_names
from tests.deploy.repo import API_PORT, ROOT, app_services, in_repository, load_yaml, services

CONFIG = load_yaml(ROOT / "deploy/prometheus/prometheus.yml")
RULES = load_yaml(ROOT / "deploy/prometheus/alerts.yml")
ALL_RULES = [rule for group in RULES["groups"] for rule in group["rules"]]
DURATION = re.compile(r"^\d+[smhd]$")


def pocketquant_jobs() -> dict[str, list[dict]]:
    return {job["job_name"]: job["static_configs"] for job in CONFIG["scrape_configs"]
            if job["job_name"].startswith("pocketquant-")}


def test_the_configuration_files_prometheus_reads_are_the_ones_in_the_repository():
    command = " ".join(services()["prometheus"]["command"])
    config_path = re.search(r"--config.file=(\S+)", command).group(1)
    assert in_repository("prometheus", config_path) == (ROOT / "deploy/prometheus/prometheus.yml").resolve()
    for rule_file in CONFIG["rule_files"]:
        assert in_repository("prometheus", rule_file).exists(), rule_file


def test_every_pocketquant_service_is_scraped_once_under_its_own_role_on_the_api_port():
    scraped: dict[str, str] = {}
    for job, static_configs in pocketquant_jobs().items():
        assert job == f"pocketquant-{static_configs[0]['labels']['role']}"
        for config in static_configs:
            for target in config["targets"]:
                host, port = target.split(":")
                assert host not in scraped, f"{host} scraped twice"
                assert int(port) == API_PORT
                scraped[host] = config["labels"]["role"]
    roles = {name: Settings(roles=s["environment"]["ROLES"]).roles for name, s in app_services().items()}
    assert set(scraped) == set(roles)
    assert all(roles[host] == {role} for host, role in scraped.items())
    assert all(job.get("metrics_path", "/metrics") == "/metrics" for job in CONFIG["scrape_configs"])


@pytest.mark.parametrize("rule", ALL_RULES, ids=[r["alert"] for r in ALL_RULES])
def test_every_alert_rule_is_complete_and_names_only_exported_metrics(rule):
    assert rule["alert"].startswith("PocketQuant")
    assert DURATION.match(rule["for"]) and rule["labels"]["severity"] in ("warning", "critical")
    assert rule["annotations"]["summary"] and rule["annotations"]["description"]
    unknown = metric_names(rule["expr"]) - exported_metric_names() - PROMETHEUS_BUILTINS
    assert not unknown, f"{rule['alert']} uses metrics the service does not export: {unknown}"


def test_alert_rules_name_only_jobs_that_are_scraped():
    jobs = {job["job_name"] for job in CONFIG["scrape_configs"]}
    for rule in ALL_RULES:
        for name in re.findall(r'job="([^"]+)"', rule["expr"]):
            assert name in jobs, rule["alert"]
        for pattern in re.findall(r'job=~"([^"]+)"', rule["expr"]):
            assert any(re.fullmatch(pattern, job) for job in jobs), rule["alert"]


def test_alert_names_are_unique():
    names = [rule["alert"] for rule in ALL_RULES]
    assert len(names) == len(set(names))
