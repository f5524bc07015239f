"""Indicator specs: `name[:param[:param...]]`, e.g. `rsi:14`, `macd:12:26:9`, `bb:20:2`, `vwap`.

Parameters come in the order of the definition's `parameters`; trailing ones left out take their defaults
(`macd:5` is `macd:5:26:9`); a spec with no parameters at all expands to the indicator's default sets
(`sma` is `sma:20`, `sma:50`, `sma:100`, `sma:200`). Integer parameters must be written as integers.
An unknown name or a bad parameter raises `InvalidIndicator` whose `field` names the spec.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass

from src.domain.errors import InvalidIndicator
from src.domain.indicators.batch import Params
from src.domain.indicators.definitions import INDICATORS, IndicatorDefinition, Parameter
from src.domain.indicators.warmup import Warmup


def _format(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@dataclass(frozen=True, slots=True)
class IndicatorSpec:
    """One indicator with all its parameters, validated against its definition."""

    name: str
    params: Params = ()

    def __post_init__(self) -> None:
        definition = _definition(self.name, self.name)
        problem = _problem(definition, self.params)
        if problem:
            raise InvalidIndicator(f"{self.text}: {problem}", field=self.text)
        object.__setattr__(self, "params", _normalised(definition, self.params))

    @property
    def definition(self) -> IndicatorDefinition:
        return INDICATORS[self.name]

    @property
    def text(self) -> str:
        return ":".join((self.name, *map(_format, self.params)))

    @property
    def columns(self) -> tuple[str, ...]:
        """Output column names: `<output>_<params joined by "_">`, or `<output>` without parameters."""
        suffix = "".join(f"_{_format(value)}" for value in self.params)
        return tuple(output + suffix for output in self.definition.outputs)

    @property
    def warmup(self) -> Warmup:
        return self.definition.warmup(self.params)


def _definition(name: str, field: str) -> IndicatorDefinition:
    definition = INDICATORS.get(name)
    if definition is None:
        known = ", ".join(sorted(INDICATORS))
        raise InvalidIndicator(f"unknown indicator {name!r} in {field!r}; known: {known}", field=field)
    return definition


def _problem(definition: IndicatorDefinition, params: Params) -> str | None:
    if len(params) != len(definition.parameters):
        return f"takes {len(definition.parameters)} parameters, got {len(params)}"
    for parameter, value in zip(definition.parameters, params, strict=True):
        problem = _parameter_problem(parameter, value)
        if problem:
            return problem
    return definition.constraint(params)


def _parameter_problem(parameter: Parameter, value: float) -> str | None:
    if not math.isfinite(value) or (parameter.integer and not float(value).is_integer()):
        kind = "an integer" if parameter.integer else "a finite number"
        return f"{parameter.name} must be {kind}, got {value!r}"
    if not parameter.minimum <= value <= parameter.maximum:
        bounds = f"{_format(parameter.minimum)}..{_format(parameter.maximum)}"
        return f"{parameter.name} must be within {bounds}, got {_format(value)}"
    return None


def _normalised(definition: IndicatorDefinition, params: Params) -> Params:
    return tuple(
        int(value) if parameter.integer else float(value)
        for parameter, value in zip(definition.parameters, params, strict=True)
    )


def parse_spec(text: str, field: str | None = None) -> tuple[IndicatorSpec, ...]:
    """The specs one text stands for (several when it expands to default sets); `field` names it in errors."""
    field = text if field is None else field
    name, *values = text.strip().lower().split(":")
    definition = _definition(name, field)
    if not values:
        return tuple(IndicatorSpec(name, params) for params in definition.defaults)
    params = _parse_values(definition, values, text, field)
    problem = _problem(definition, params)
    if problem:
        raise InvalidIndicator(f"{text!r}: {problem}", field=field)
    return (IndicatorSpec(name, params),)


def _parse_values(definition: IndicatorDefinition, values: list[str], text: str, field: str) -> Params:
    parameters = definition.parameters
    if len(values) > len(parameters):
        names = ", ".join(parameter.name for parameter in parameters) or "none"
        raise InvalidIndicator(f"{text!r}: too many parameters (takes {names})", field=field)
    given = zip(parameters[: len(values)], values, strict=True)
    parsed = [_parse_value(parameter, value.strip(), text, field) for parameter, value in given]
    return (*parsed, *(parameter.default for parameter in parameters[len(values):]))


def _parse_value(parameter: Parameter, value: str, text: str, field: str) -> float:
    try:
        return int(value) if parameter.integer else float(value)
    except ValueError:
        kind = "an integer" if parameter.integer else "a number"
        raise InvalidIndicator(f"{text!r}: {parameter.name} must be {kind}, got {value!r}", field=field) from None


def parse_specs(texts: Iterable[str]) -> tuple[IndicatorSpec, ...]:
    """Specs of a request in order, duplicates dropped; errors name the offending item as `indicators[i]`."""
    specs: dict[IndicatorSpec, None] = {}
    for index, text in enumerate(texts):
        specs.update(dict.fromkeys(parse_spec(text, f"indicators[{index}]")))
    return tuple(specs)


DEFAULT_INDICATORS = parse_specs(INDICATORS)
