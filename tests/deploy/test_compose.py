"""docker-compose.yml checked where no Docker engine runs: against the Compose Specification's JSON schema
(the copy check-jsonschema vendors from the compose-spec project), and for sense: images and builds,
ports, each PocketQuant service's environment read by the service's own settings, and dependencies."""

import copy
import importlib.resources
import json
from urllib.parse import urlsplit

import jsonschema
import pytest

from src.common.settings import Settings
from tests.deploy.repo import API_PORT, APP_IMAGE, ROOT, app_services, compose, services


def compose_schema() -> dict:
    vendored = importlib.resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    return json.loads(vendored.read_text())


def schema_errors(document: dict) -> list[str]:
    schema = compose_schema()
    validator = jsonschema.validators.validator_for(schema)
    validator.check_schema(schema)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator(schema).iter_errors(document)]


def test_the_compose_file_is_valid_against_the_compose_specification():
    assert schema_errors(compose()) == []


@pytest.mark.parametrize("mutate", [
    lambda d: d["services"]["api-1"].update(restart_policy="always"),        # not a Compose key
    lambda d: d["services"]["api-1"].update(ports=8000),                       # not a list
    lambda d: d["services"]["api-1"]["depends_on"]["mongo"].update(condition="whenever"),  # not a condition
])
def test_the_schema_check_catches_invalid_files(mutate):
    document = copy.deepcopy(compose())
    mutate(document)
    assert schema_errors(document)


def test_the_roles_run_as_separate_services_of_the_same_image():
    roles = {name: Settings(roles=s["environment"]["ROLES"]).roles for name, s in app_services().items()}
    assert roles == {"api-1": {"api"}, "api-2": {"api"}, "collector-1": {"collector"}, "collector-2": {"collector"},
                     "scheduler": {"scheduler"}}
    for service in app_services().values():
        assert service["image"] == APP_IMAGE and service["build"] == "."
    assert (ROOT / "Dockerfile").exists()


def test_the_infrastructure_runs_mongodb_7_redis_7_and_pinned_monitoring_images():
    images = {name: s["image"] for name, s in services().items() if name not in app_services()}
    assert images["mongo"] == "mongo:7" and images["redis"] == "redis:7"
    for name in ("prometheus", "grafana"):
        assert ":" in images[name] and not images[name].endswith(":latest")


@pytest.mark.parametrize("name", sorted(app_services()))
def test_each_pocketquant_service_environment_is_valid_settings(name):
    environment = app_services()[name]["environment"]
    fields = {field.upper() for field in Settings.model_fields}
    assert set(environment) <= fields, set(environment) - fields
    settings = Settings(**{key.lower(): value for key, value in environment.items()})
    assert settings.environment == "production"
    assert urlsplit(settings.mongodb_url.get_secret_value()).hostname == "mongo"
    assert urlsplit(settings.redis_url.get_secret_value()).hostname == "redis"


def test_published_ports_are_unique_and_reach_the_service_ports():
    published = [port for s in services().values() for port in s.get("ports", ())]
    host_ports = [p.split(":")[0] for p in published]
    assert len(host_ports) == len(set(host_ports))
    for name, service in app_services().items():
        assert all(p.split(":")[1] == str(API_PORT) for p in service.get("ports", ())), name
        assert "/health" in " ".join(service["healthcheck"]["test"]) and f":{API_PORT}/" in " ".join(
            service["healthcheck"]["test"])
    assert {p.split(":")[0] for p in published} >= {"8000", "8001", "9090", "3000"}


def test_dependencies_name_services_and_wait_for_health_only_where_there_is_a_healthcheck():
    for name, service in services().items():
        for target, condition in service.get("depends_on", {}).items():
            assert target in services(), f"{name} depends on unknown {target}"
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services()[target], f"{name} waits for {target}'s health, which it lacks"
    for service in app_services().values():
        assert set(service["depends_on"]) == {"mongo", "redis"}


def test_named_volumes_are_declared_and_bind_mounts_exist_in_the_repository():
    declared = set(compose()["volumes"])
    for name, service in services().items():
        for volume in service.get("volumes", ()):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in declared, f"{name} uses undeclared volume {source}"
