"""Queries of the indicators slice: plain immutable requests built by the routes."""

from dataclasses import dataclass

from src.domain.features import FeatureSet
from src.domain.indicators import IndicatorSpec
from src.domain.market_data import SeriesKey
from src.features.indicators.reading import Window
from src.features.indicators.serialization import TableFormat


@dataclass(frozen=True, slots=True)
class ListIndicatorsQuery:
    """Every indicator with its parameters, defaults and outputs."""


@dataclass(frozen=True, slots=True)
class GetIndicatorsQuery:
    """Indicator values of the stored bars in `window` (response bytes in `format`)."""

    key: SeriesKey
    specs: tuple[IndicatorSpec, ...]
    window: Window
    format: TableFormat = TableFormat.JSON
    with_bars: bool = False


@dataclass(frozen=True, slots=True)
class GetLatestIndicatorsQuery:
    """The live indicators' values at the series' newest bar."""

    key: SeriesKey


@dataclass(frozen=True, slots=True)
class ListFeatureSetsQuery:
    """Every feature set version with its features."""


@dataclass(frozen=True, slots=True)
class GetFeaturesQuery:
    key: SeriesKey
    feature_set: FeatureSet
    window: Window
    format: TableFormat = TableFormat.JSON


@dataclass(frozen=True, slots=True)
class GetLatestFeaturesQuery:
    key: SeriesKey
    feature_set: FeatureSet
