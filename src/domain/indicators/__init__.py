"""Technical indicators: TA-Lib batch computation on numpy columns and incremental state for live bars."""

from src.domain.indicators.columns import BarPoint, Columns
from src.domain.indicators.compute import compute, history_start, warmup
from src.domain.indicators.definitions import INDICATORS, IndicatorDefinition, Parameter
from src.domain.indicators.spec import DEFAULT_INDICATORS, IndicatorSpec, parse_spec, parse_specs
from src.domain.indicators.state import IndicatorState
from src.domain.indicators.warmup import Warmup

__all__ = [
    "DEFAULT_INDICATORS",
    "INDICATORS",
    "BarPoint",
    "Columns",
    "IndicatorDefinition",
    "IndicatorSpec",
    "IndicatorState",
    "Parameter",
    "Warmup",
    "compute",
    "history_start",
    "parse_spec",
    "parse_specs",
    "warmup",
]
