"""HTTP routes of the indicators slice: each builds a Query and sends it to the Mediator."""

from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Request, Response

from src.domain.errors import InvalidIndicator
from src.domain.features import feature_set
from src.domain.indicators import DEFAULT_INDICATORS, IndicatorSpec, parse_specs
from src.domain.market_data import SeriesKey
from src.features.indicators.messages import (
    GetFeaturesQuery,
    GetIndicatorsQuery,
    GetLatestFeaturesQuery,
    GetLatestIndicatorsQuery,
    ListFeatureSetsQuery,
    ListIndicatorsQuery,
)
from src.features.indicators.schemas import (
    FeaturesParams,
    IndicatorsParams,
    LatestFeaturesParams,
    TableBody,
)
from src.features.indicators.serialization import MEDIA_TYPES, TableFormat
from src.features.shared.dependencies import MediatorDep, mediator_of
from src.features.shared.query_models import openapi_parameters, parse_query
from src.features.shared.series_params import SeriesParams

router = APIRouter(prefix="/api/v1", tags=["indicators and features"])
_TABLE_CONTENT: dict[int | str, dict[str, Any]] = {
    200: {"model": TableBody, "content": {
        MEDIA_TYPES[TableFormat.CSV]: {"schema": {"type": "string"}},
        MEDIA_TYPES[TableFormat.PARQUET]: {"schema": {"type": "string", "format": "binary"}},
    }},
}
_EXTENSIONS = {TableFormat.JSON: "json", TableFormat.CSV: "csv", TableFormat.PARQUET: "parquet"}


@lru_cache(maxsize=1024)  # a hot route: the same few spec lists again and again (specs are immutable)
def _specs(text: str | None) -> tuple[IndicatorSpec, ...]:
    if text is None:
        return DEFAULT_INDICATORS
    specs = parse_specs(item for item in text.split(",") if item.strip())
    if not specs:
        raise InvalidIndicator("give at least one indicator spec, e.g. rsi:14", field="indicators")
    return specs


def _table_response(body: bytes, form: TableFormat, key: SeriesKey, kind: str) -> Response:
    headers = {}
    if form is not TableFormat.JSON:
        name = f"{key.source}_{key.symbol.exchange}_{key.symbol.code}_{key.interval.code}_{kind}.{_EXTENSIONS[form]}"
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return Response(body, media_type=MEDIA_TYPES[form], headers=headers)


@router.get("/indicators")
async def list_indicators(mediator: MediatorDep) -> dict[str, Any]:
    """Every indicator: parameters with defaults and bounds, outputs, formula source, default specs."""
    result: dict[str, Any] = await mediator.send(ListIndicatorsQuery())
    return result


@router.get("/indicators/{exchange}/{symbol}", response_class=Response,
            openapi_extra=openapi_parameters(IndicatorsParams), responses=_TABLE_CONTENT)
async def indicators(exchange: str, symbol: str, request: Request) -> Response:
    """Indicator values of the stored bars (`limit` within [start, end], counted from `start` when given, else
    from the newest bar, as for ohlcv); warm-up read automatically."""
    params = parse_query(IndicatorsParams, request)
    key, form = params.series_key(exchange, symbol), TableFormat(params.format)
    query = GetIndicatorsQuery(key, _specs(params.indicators), params.window(), form, with_bars=params.bars)
    return _table_response(await mediator_of(request).send(query), form, key, "indicators")


_NO_BARS: dict[int | str, dict[str, Any]] = {404: {"description": "no bars are stored for this series"}}


@router.get("/indicators/{exchange}/{symbol}/latest", openapi_extra=openapi_parameters(SeriesParams),
            responses=_NO_BARS)
async def latest_indicators(exchange: str, symbol: str, request: Request) -> dict[str, Any]:
    """The live indicators' values at the newest bar (kept current as live bars close)."""
    key = parse_query(SeriesParams, request).series_key(exchange, symbol)
    result: dict[str, Any] = await mediator_of(request).send(GetLatestIndicatorsQuery(key))
    return result


@router.get("/features/sets")
async def list_feature_sets(mediator: MediatorDep) -> dict[str, Any]:
    """Every feature set version with its features (name, description, lookback)."""
    result: dict[str, Any] = await mediator.send(ListFeatureSetsQuery())
    return result


@router.get("/features/{exchange}/{symbol}", response_class=Response,
            openapi_extra=openapi_parameters(FeaturesParams), responses=_TABLE_CONTENT)
async def features(exchange: str, symbol: str, request: Request) -> Response:
    """A feature set's values for the stored bars; `format=parquet` (or csv) for data frames."""
    params = parse_query(FeaturesParams, request)
    key, form = params.series_key(exchange, symbol), TableFormat(params.format)
    query = GetFeaturesQuery(key, feature_set(params.version), params.window(), form)
    return _table_response(await mediator_of(request).send(query), form, key, f"features_{params.version}")


@router.get("/features/{exchange}/{symbol}/latest", openapi_extra=openapi_parameters(LatestFeaturesParams),
            responses=_NO_BARS)
async def latest_features(exchange: str, symbol: str, request: Request) -> dict[str, Any]:
    """A feature set's values at the newest bar (kept current as live bars close)."""
    params = parse_query(LatestFeaturesParams, request)
    query = GetLatestFeaturesQuery(params.series_key(exchange, symbol), feature_set(params.version))
    result: dict[str, Any] = await mediator_of(request).send(query)
    return result
