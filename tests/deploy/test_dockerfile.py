"""The Dockerfile, which cannot be run here (no Docker engine): its final stage's build context — exactly
what it copies — builds the wheel `pip install .` installs, with the console script its CMD runs; its base
image and port agree with the project; the web stage builds the app the final stage serves."""

import json
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
STAGES = re.split(r"^(?=FROM\s)", DOCKERFILE, flags=re.MULTILINE)[1:]


def instructions(name: str, stage: str = STAGES[-1]) -> list[str]:
    return re.findall(rf"^{name}\s+(.+)$", stage, flags=re.MULTILINE)


def copies(stage: str = STAGES[-1]) -> list[tuple[list[str], str]]:
    """What a stage copies from the build context (not from another stage)."""
    pairs = []
    for line in instructions("COPY", stage):
        if line.startswith("--from="):
            continue
        *sources, destination = line.split()
        pairs.append((sources, destination))
    return pairs


def test_the_base_image_is_the_python_the_project_requires():
    [base] = instructions("FROM")
    version = re.match(r"python:(\d+\.\d+)", base).group(1)
    assert PYPROJECT["project"]["requires-python"] == f">={version}"


def test_the_web_stage_builds_what_the_final_stage_serves():
    [web] = [stage for stage in STAGES if stage.startswith("FROM node:")]
    assert "RUN npm ci" in web and "RUN npm run build" in web
    package = json.loads((ROOT / "web" / "package.json").read_text())
    assert "build" in package["scripts"] and (ROOT / "web" / "package-lock.json").exists()
    assert all((ROOT / source).exists() for sources, _ in copies(web) for source in sources)
    assert "COPY --from=web /web/dist ./web/dist" in STAGES[-1]
    assert any("WEB_DIST_DIR=/app/web/dist" in env for env in instructions("ENV"))


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
