"""Every Command and Query of every feature slice has exactly one handler, and the composition root
registers every slice's handlers and subscribers."""

import importlib
import inspect
import pkgutil

import src.features
from src import bootstrap


def _messages() -> list[type]:
    found = []
    for info in pkgutil.iter_modules(src.features.__path__):
        try:
            module = importlib.import_module(f"src.features.{info.name}.messages")
        except ModuleNotFoundError:
            continue
        found += [
            cls for name, cls in inspect.getmembers(module, inspect.isclass)
            if cls.__module__ == module.__name__ and name.endswith(("Command", "Query"))
        ]
    assert found, "no Commands or Queries found"
    return found


def test_every_command_and_query_has_exactly_one_handler():
    registered: dict[type, int] = {}
    for table in bootstrap.HANDLER_TABLES:
        for message_type in table:
            registered[message_type] = registered.get(message_type, 0) + 1
    for message in _messages():
        assert registered.get(message) == 1, f"{message.__name__} has {registered.get(message, 0)} handlers"
    assert set(registered) == set(_messages()), "a handler is registered for something that is not a message"


def test_every_slice_with_handlers_is_wired_into_the_composition_root():
    for info in pkgutil.iter_modules(src.features.__path__):
        try:
            handlers = importlib.import_module(f"src.features.{info.name}.handlers")
        except ModuleNotFoundError:
            continue
        assert any(table is handlers.HANDLERS for table in bootstrap.HANDLER_TABLES), info.name


def test_handlers_are_small_callables_taking_their_message():
    for table in bootstrap.HANDLER_TABLES:
        for handler_class in table.values():
            call = handler_class.__call__
            assert inspect.iscoroutinefunction(call), f"{handler_class.__name__}.__call__ must be async"
            hints = inspect.signature(call).parameters
            assert len(hints) == 2, f"{handler_class.__name__} takes only its message"
