"""Reading one condition's plain dict: typed fields, defaults, and no unknown keys."""

from collections.abc import Mapping
from enum import StrEnum

from src.domain.alerts.errors import InvalidCondition

_MISSING = object()


class ConditionFields:
    def __init__(self, data: Mapping[str, object]) -> None:
        self._data = data
        self._read = {"kind"}

    def _get(self, name: str, default: object) -> object:
        self._read.add(name)
        value = self._data.get(name, default)
        if value is _MISSING:
            raise InvalidCondition(f"condition needs {name!r}", field=f"condition.{name}")
        return value

    def number(self, name: str, default: float | object = _MISSING) -> float:
        value = self._get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidCondition(f"{name} must be a number, got {value!r}", field=f"condition.{name}")
        return float(value)

    def integer(self, name: str, default: int | object = _MISSING) -> int:
        value = self._get(name, default)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidCondition(f"{name} must be an integer, got {value!r}", field=f"condition.{name}")
        return value

    def choice[E: StrEnum](
        self, name: str, options: type[E], default: E | object = _MISSING,
        *, error: type[InvalidCondition] = InvalidCondition,
    ) -> E:
        value = self._get(name, default)
        if isinstance(value, str) and value in options:
            return options(value)
        valid = ", ".join(options)
        raise error(f"{name} must be one of {valid}, got {value!r}", field=f"condition.{name}")

    def check_no_others(self) -> None:
        unknown = sorted(set(self._data) - self._read)
        if unknown:
            raise InvalidCondition(f"unknown condition field {unknown[0]!r}", field=f"condition.{unknown[0]}")
