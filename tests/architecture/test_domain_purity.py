"""The domain imports nothing that does I/O, reads the clock, logs or belongs to a framework.

Checked twice: on the source AST against an allow-list (catches a new import the moment it's written),
and with import-linter's contracts in pyproject.toml (catches indirect imports an AST scan misses)."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = ROOT / "src" / "domain"
ALLOWED_ROOTS = {
    "__future__", "abc", "array", "bisect", "calendar", "collections", "dataclasses", "datetime",
    "decimal", "enum", "functools", "heapq", "itertools", "math", "operator", "re", "statistics",
    "typing", "src", "numpy", "talib", "ipaddress",
}
FORBIDDEN_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("date", "today"), ("time", "time")}


def _domain_files() -> list[Path]:
    files = sorted(DOMAIN.rglob("*.py"))
    assert files, "no domain sources found"
    return files


def _imports(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("path", _domain_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_domain_module_imports_only_pure_modules(path):
    tree = ast.parse(path.read_text(), str(path))
    for name in _imports(tree):
        root = name.split(".")[0]
        assert root in ALLOWED_ROOTS, f"{path.name} imports {name}"
        if root == "src":
            assert name.startswith("src.domain"), f"{path.name} imports {name} from outside the domain"


@pytest.mark.parametrize("path", _domain_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_domain_never_reads_the_clock(path):
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            assert (node.value.id, node.attr) not in FORBIDDEN_CALLS, (
                f"{path.name}:{node.lineno} reads the clock; pass time in"
            )


def test_import_linter_contracts_hold():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" not in result.stdout.lower().replace("0 broken", "")


def test_the_code_type_checks_with_the_domain_strict():
    mypy = Path(sys.executable).with_name("mypy")
    result = subprocess.run([str(mypy), "src"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1000:]
