"""What the slice tells about its indicators and feature sets, and the shape of latest values, as plain dicts."""

from collections.abc import Iterable
from typing import Any

from src.common.bar_shape import series_fields
from src.common.time_format import iso_utc
from src.domain.features import FeatureSet
from src.domain.indicators import DEFAULT_INDICATORS, INDICATORS, IndicatorDefinition, IndicatorSpec, Parameter
from src.features.indicators.live import Latest


def _number(value: float, integer: bool) -> float | int:
    return int(value) if integer else float(value)


def _parameter(parameter: Parameter) -> dict[str, Any]:
    return {
        "name": parameter.name,
        "default": _number(parameter.default, parameter.integer),
        "minimum": _number(parameter.minimum, parameter.integer),
        "maximum": _number(parameter.maximum, parameter.integer),
        "type": "integer" if parameter.integer else "number",
    }


def _warmup(spec: IndicatorSpec) -> dict[str, Any]:
    needed = spec.warmup
    return {"bars": needed.bars, "to_session_start": needed.to_session_start}


def _indicator(definition: IndicatorDefinition) -> dict[str, Any]:
    defaults = [spec for spec in DEFAULT_INDICATORS if spec.name == definition.name]
    return {
        "name": definition.name,
        "title": definition.title,
        "formula_source": definition.source,
        "parameters": [_parameter(parameter) for parameter in definition.parameters],
        "outputs": list(definition.outputs),
        "defaults": [{"spec": spec.text, "columns": list(spec.columns), "warmup": _warmup(spec)} for spec in defaults],
    }


def indicators() -> dict[str, Any]:
    return {
        "indicators": [_indicator(definition) for definition in INDICATORS.values()],
        "default_specs": [spec.text for spec in DEFAULT_INDICATORS],
    }


def _feature_set(feature_set: FeatureSet) -> dict[str, Any]:
    return {
        "version": feature_set.version,
        "description": feature_set.description,
        "count": len(feature_set.features),
        "warmup": {"bars": feature_set.warmup.bars, "to_session_start": feature_set.warmup.to_session_start},
        "indicators": [spec.text for spec in feature_set.indicators],
        "features": [
            {"name": f.name, "description": f.description, "lookback": f.lookback,
             "session_anchored": f.session_anchored}
            for f in feature_set.features
        ],
    }


def feature_sets(sets: Iterable[FeatureSet]) -> dict[str, Any]:
    return {"feature_sets": [_feature_set(feature_set) for feature_set in sets]}


def latest_payload(latest: Latest, meta: dict[str, Any]) -> dict[str, Any]:
    return {
        **series_fields(latest.key),
        **meta,
        "time": iso_utc(latest.bar_time),
        "timestamp": latest.bar_time,
        "live": latest.live,
        "values": latest.values,
    }
