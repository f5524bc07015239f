"""The Dockerfile, which cannot be run here (no Docker engine): its build context — exactly what it copies —
builds the wheel `pip install .` installs, with the console script its CMD runs; its base image and
port agree with the project."""

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile

import pytest

from tests.deploy.repo import API_PORT, ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text()
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def instructions(name: str) -> list[str]:
    return re.findall(rf"^{name}\s+(.+)$", DOCKERFILE, flags=re.MULTILINE)


def copies() -> list[tuple[list[str], str]]:
    pairs = []
    for line in instructions("COPY"):
        *sources, destination = line.split()
        pairs.append((sources, destination))
    return pairs


def test_the_base_image_is_the_python_the_project_requires():
    [base] = instructions("FROM")
    version = re.match(r"python:(\d+\.\d+)", base).group(1)
    assert PYPROJECT["project"]["requires-python"] == f">={version}"


def test_the_command_is_the_console_script_and_the_port_is_the_api_port():
    [command] = instructions("CMD")
    assert command == '["pocketquant", "serve"]'
    assert PYPROJECT["project"]["scripts"]["pocketquant"] == "src.cli.main:main"
    assert instructions("EXPOSE") == [str(API_PORT)]
    assert any(f"API_PORT={API_PORT}" in env and "API_HOST=0.0.0.0" in env for env in instructions("ENV"))


@pytest.mark.timeout(300)
def test_what_the_dockerfile_copies_builds_the_app_with_its_console_script(tmp_path):
    context = tmp_path / "app"
    context.mkdir()
    for sources, destination in copies():
        for source in sources:
            target = context / destination / source if destination.endswith("/") else context / destination
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(ROOT / source, target)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                            "-w", str(tmp_path / "wheels"), str(context)], capture_output=True, text=True, timeout=280)
    assert built.returncode == 0, built.stderr
    [wheel] = (tmp_path / "wheels").glob("pocketquant-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(archive.read(n).decode() for n in names if n.endswith("entry_points.txt"))
    assert {"src/cli/main.py", "src/main.py", "src/infrastructure/http/token_bucket.lua",
            "simulators/tradingview/__main__.py"} <= names
    assert "pocketquant = src.cli.main:main" in entry_points
