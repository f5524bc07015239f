"""The deployment files as the checks read them: docker-compose.yml (YAML merge keys resolved, as Compose
does), Prometheus' and Grafana's files, and where a container path of a bind mount lives in the repository."""

import json
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
API_PORT = 8000  # the image's API_PORT (Dockerfile)
APP_IMAGE = "pocketquant:local"


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


@cache
def compose() -> dict[str, Any]:
    document: dict[str, Any] = load_yaml(ROOT / "docker-compose.yml")
    return document


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


def app_services() -> dict[str, dict[str, Any]]:
    """The services running PocketQuant itself (the image built from this repository)."""
    return {name: s for name, s in services().items() if s.get("image") == APP_IMAGE or "build" in s}


def bind_mounts(service: str) -> dict[PurePosixPath, Path]:
    """Container path → repository path of the service's bind mounts (`./x:/y[:ro]`)."""
    mounts = {}
    for volume in services()[service].get("volumes", ()):
        source, target = volume.split(":")[:2]
        if source.startswith("."):
            mounts[PurePosixPath(target)] = (ROOT / source).resolve()
    return mounts


def in_repository(service: str, container_path: str) -> Path:
    """The repository file a container path of `service` reads, through its bind mounts."""
    path = PurePosixPath(container_path)
    for target, source in bind_mounts(service).items():
        if path == target or target in path.parents:
            return source / path.relative_to(target)
    raise AssertionError(f"{container_path} is not in a bind mount of {service}")


def dashboards() -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text()) for p in sorted((ROOT / "deploy/grafana/dashboards").glob("*.json"))}
