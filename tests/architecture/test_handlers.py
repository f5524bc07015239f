"""The composition root wires every slice: each slice declares itself, every Command and Query has exactly
one handler in the Mediator the root builds (the same root tests and the app use), handlers are small
async callables, and routes reach the application only through the Mediator."""

import importlib
import inspect
import pkgutil
import re
import tomllib
from pathlib import Path

import src.features
from src.app.slices import SLICES
from tests.world import World

ROOT = Path(__file__).resolve().parents[2]
SLICE_PACKAGES = sorted(
    info.name for info in pkgutil.iter_modules(src.features.__path__) if info.ispkg and info.name != "shared"
)


def _messages() -> list[type]:
    found = []
    for name in SLICE_PACKAGES:
        try:
            module = importlib.import_module(f"src.features.{name}.messages")
        except ModuleNotFoundError:
            continue
        found += [
            cls for cls_name, cls in inspect.getmembers(module, inspect.isclass)
            if cls.__module__ == module.__name__ and cls_name.endswith(("Command", "Query"))
        ]
    assert found, "no Commands or Queries found"
    return found


def test_every_slice_package_declares_itself_and_is_listed_in_the_root():
    declared = {}
    for name in SLICE_PACKAGES:
        module = importlib.import_module(f"src.features.{name}.slice")
        declared[name] = module.SLICE
    assert [s.name for s in SLICES] and sorted(s.name for s in SLICES) == SLICE_PACKAGES
    assert all(any(s is slice_ for s in SLICES) for slice_ in declared.values())


def test_every_command_and_query_has_exactly_one_handler_in_the_root_built_mediator():
    handlers = World().mediator.handlers  # registering a type twice raises while the root is built
    messages = _messages()
    missing = [m.__name__ for m in messages if m not in handlers]
    assert not missing, f"no handler for {missing}"
    assert set(handlers) == set(messages), "a handler is registered for something that is not a message"


def test_handlers_are_small_async_callables_taking_only_their_message():
    for handler in World().mediator.handlers.values():
        call = type(handler).__call__
        assert inspect.iscoroutinefunction(call), f"{type(handler).__name__}.__call__ must be async"
        assert len(inspect.signature(call).parameters) == 2, f"{type(handler).__name__} takes only its message"
        lines = len(inspect.getsource(call).splitlines())
        assert lines <= 25, f"{type(handler).__name__}.__call__ has {lines} lines: move the rule into the domain"


def test_import_linter_knows_every_slice_as_independent():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    [independence] = [c for c in contracts if c["type"] == "independence" and "src.features.quotes" in c["modules"]]
    assert sorted(independence["modules"]) == [f"src.features.{name}" for name in SLICE_PACKAGES]


def test_routes_reach_the_application_only_through_the_mediator():
    state_use = re.compile(r"\.state\.(?!mediator\b)")
    offenders = [
        str(path.relative_to(ROOT)) for path in (ROOT / "src" / "features").rglob("*.py")
        if state_use.search(path.read_text())
    ]
    assert not offenders, f"service locator through app.state in {offenders}"
