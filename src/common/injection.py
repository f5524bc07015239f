"""Builds handler and subscriber objects from their classes by matching constructor parameter names to
the dependencies the composition root provides (as cosmicpython's bootstrap does)."""

import inspect
from collections.abc import Mapping
from typing import Any


def inject(cls: type, dependencies: Mapping[str, Any]) -> Any:
    params = inspect.signature(cls).parameters
    missing = [name for name in params if name not in dependencies]
    if missing:
        raise LookupError(f"{cls.__name__} needs {', '.join(missing)}, which the composition root lacks")
    return cls(**{name: dependencies[name] for name in params})
